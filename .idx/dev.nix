# The system packages JOST Cloud needs, for Nix-based IDEs (Firebase Studio, Project IDX).
# The preview runs the whole stack with ./start-dev.sh (virtual environment, migrations,
# Redis, Celery worker, Gunicorn) and follows the web log; ./stop-dev.sh stops it.
{ pkgs, ... }: {
  channel = "stable-24.05";

  packages = [
    pkgs.python311
    pkgs.redis
    pkgs.postgresql
    pkgs.curl
  ];

  env = {
    DEBUG = "true";
  };

  idx = {
    extensions = [ "ms-python.python" ];

    workspace = {
      # Build .venv once when the workspace is created, so the first preview is quick.
      onCreate = {
        setup = "python3.11 -m venv .venv && .venv/bin/pip install -r requirements-dev.txt";
      };
    };

    previews = {
      enable = true;
      previews = {
        web = {
          command = [ "bash" "-c" "BIND_HOST=0.0.0.0 PORT=$PORT ./start-dev.sh && exec tail -n +1 -f var/log/web.log" ];
          manager = "web";
        };
      };
    };
  };
}
