"""Settings for bench/service_*.py only: production settings plus a bare JSON view to
compare the API against (service/bench_urls.py). Never used by a deployment."""

from service.settings import *  # noqa: F403

ROOT_URLCONF = "service.bench_urls"
