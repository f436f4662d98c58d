"""The `jost` command line.

Exit codes: 0 done; 1 an API error (printed as the API says it: the detail, then each
problem as `path: reason`), no answer, or results asked of a job not finished; 2 bad
usage (arguments, an unreadable file, no login); 3 the job FAILED or was CANCELLED;
130 interrupted (Ctrl-C: a job being watched keeps running, and the command that resumes
watching it is printed).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from jost_client import output, settings
from jost_client.client import JostClient
from jost_client.errors import ApiError, JostError
from jost_client.models import JobStatus

EXIT_OK = 0
EXIT_API = 1
EXIT_USAGE = 2
EXIT_JOB_FAILED = 3
EXIT_INTERRUPTED = 130


class Usage(Exception):
    """Bad usage: exit 2 with this message."""


def _emit(args: argparse.Namespace, data: Any, text: str | Callable[[], str]) -> None:
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(text() if callable(text) else text)


def _read_json(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise Usage(f"cannot read {path}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise Usage(f"{path} is not JSON: {exc}") from None


def _client(args: argparse.Namespace) -> JostClient:
    login = settings.load()
    url = args.url or login.url
    if not url:
        raise Usage("no service URL: run `jost login URL` or set JOST_URL")
    if not login.token:
        raise Usage("not logged in: run `jost login URL` or set JOST_TOKEN")
    return JostClient(url, login.token, timeout=args.timeout)


# --- Commands ----------------------------------------------------------------------------


def cmd_login(args: argparse.Namespace) -> int:
    username = args.username or input("Username: ")
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
    else:  # a script pipes it in: one line, never an argument (ps would show it)
        password = sys.stdin.readline().rstrip("\n")
    client = JostClient(args.url_arg, timeout=args.timeout)
    token = client.create_token(username, password)
    path = settings.save(client.url, token, username)
    _emit(
        args,
        {"url": client.url, "username": username, "config": str(path)},
        f"Logged in to {client.url} as {username} (token in {path})",
    )
    return EXIT_OK


def cmd_whoami(args: argparse.Namespace) -> int:
    login = settings.load()
    client = _client(args)
    # The token is checked by a call any user may make: a 401 says it is no longer valid.
    jobs = client.jobs.list().count
    data = {"url": client.url, "username": login.username, "token_from": login.source}
    _emit(
        args,
        {**data, "jobs": jobs},
        f"{login.username or '(user unknown: token from JOST_TOKEN)'} at {client.url} "
        f"({jobs} jobs; token from {login.source})",
    )
    return EXIT_OK


def _watch(args: argparse.Namespace, client: JostClient, job_id: str, unit: str = "rounds") -> int:
    bar = output.Bar(sys.stderr, unit)
    try:
        final = client.jobs.wait(job_id, interval=args.interval, on_progress=bar.status)
    except KeyboardInterrupt:
        bar.end()
        print(
            f"Stopped watching; job {job_id} keeps running. Resume with: jost watch {job_id}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    bar.end()
    return _finished(args, client, final)


def _finished(args: argparse.Namespace, client: JostClient, final: JobStatus) -> int:
    if final.status != "COMPLETE":
        _emit(args, final.raw, f"Job {final.job_id} {final.status}: {final.error or ''}".strip())
        return EXIT_JOB_FAILED
    results = client.jobs.results(final.job_id)
    doc = results.results or {}
    _emit(args, results.raw, lambda: f"Job {final.job_id} COMPLETE\n{output.summary(doc)}")
    return EXIT_OK


def cmd_submit(args: argparse.Namespace) -> int:
    client = _client(args)
    accepted = client.jobs.submit(_read_json(args.config))
    if not args.wait:
        _emit(args, accepted.raw, f"Submitted job {accepted.job_id}")
        return EXIT_OK
    print(f"Submitted job {accepted.job_id}", file=sys.stderr)
    return _watch(args, client, accepted.job_id)


def cmd_watch(args: argparse.Namespace) -> int:
    client = _client(args)
    kind = client.jobs.get(args.job).kind
    return _watch(args, client, args.job, "shoes" if kind == "indices" else "rounds")


def cmd_status(args: argparse.Namespace) -> int:
    current = _client(args).jobs.status(args.job)
    p = current.progress
    line = output.progress_line(p.rounds_done, p.rounds_total, p.rate, p.eta_seconds, "rounds")
    _emit(args, current.raw, f"{current.job_id} {current.status}  {line}")
    return EXIT_OK


def cmd_results(args: argparse.Namespace) -> int:
    answer = _client(args).jobs.results(args.job)
    if answer.status in ("FAILED", "CANCELLED"):
        _emit(args, answer.raw, f"Job {answer.job_id} {answer.status}: {answer.error or ''}")
        return EXIT_JOB_FAILED
    if answer.results is None:
        _emit(args, answer.raw, f"Job {answer.job_id} is {answer.status}: no results yet")
        return EXIT_API
    fmt = "json" if args.json else args.format
    if fmt == "json":
        print(json.dumps(answer.results, indent=2))
    elif fmt == "csv":
        sys.stdout.write(output.counts_csv(answer.results))
    else:
        print(output.summary(answer.results))
    return EXIT_OK


def cmd_jobs(args: argparse.Namespace) -> int:
    page = _client(args).jobs.list(status=args.status, name=args.name, kind=args.kind)
    rows = [
        [j.job_id, j.kind, j.name or "", j.status, f"{j.progress.fraction:.0%}", j.created_at]
        for j in page.results
    ]
    _emit(
        args,
        [j.raw for j in page.results],
        lambda: (
            output.table(["job", "kind", "name", "status", "done", "created"], rows)
            + f"\n{page.count} jobs"
        ),
    )
    return EXIT_OK


def cmd_cancel(args: argparse.Namespace) -> int:
    job = _client(args).jobs.cancel(args.job)
    _emit(args, job.raw, f"Job {job.job_id} {job.status}")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    normalised = _client(args).validate(_read_json(args.config))
    _emit(args, normalised, "The config is valid.")
    return EXIT_OK


def _profile_by_name(client: JostClient, name: str, kind: str | None) -> Any:
    found = [p for p in client.profiles.list(profile_type=kind) if p.name == name]
    if not found:
        raise Usage(f"no profile named {name!r}" + (f" of type {kind}" if kind else ""))
    if len(found) > 1:
        kinds = ", ".join(p.profile_type for p in found)
        raise Usage(f"{name!r} names profiles of types {kinds}: say which with --type")
    return found[0]


def cmd_profiles(args: argparse.Namespace) -> int:
    client = _client(args)
    if args.action == "list":
        items = client.profiles.list(profile_type=args.type)
        rows = [[p.id, p.profile_type, p.name, p.updated_at] for p in items]
        _emit(
            args,
            [p.raw for p in items],
            lambda: output.table(["id", "type", "name", "updated"], rows),
        )
    elif args.action in ("show", "pull"):
        if not args.target:
            raise Usage(f"profiles {args.action} needs a NAME")
        profile = (
            client.profiles.get(int(args.target))
            if args.target.isdigit()
            else _profile_by_name(client, args.target, args.type)
        )
        doc = {"profile_type": profile.profile_type, "name": profile.name, "data": profile.data}
        if args.action == "pull" and args.out:
            Path(args.out).write_text(json.dumps(doc, indent=2) + "\n")
            _emit(args, doc, f"Wrote {profile.profile_type} {profile.name} to {args.out}")
        else:
            print(json.dumps(doc if args.action == "pull" else profile.raw, indent=2))
    else:  # push FILE: create, or replace the caller's profile of that type and name
        if not args.target:
            raise Usage("profiles push needs a FILE")
        doc = _read_json(args.target)
        if not isinstance(doc, dict) or not {"profile_type", "name", "data"} <= set(doc):
            raise Usage(f"{args.target}: a profile is {{profile_type, name, data}}")
        kind, name, data = doc["profile_type"], doc["name"], doc["data"]
        existing = client.profiles.find(kind, name)
        if existing is None:
            profile = client.profiles.create(kind, name, data)
            verb = "Created"
        else:
            profile = client.profiles.update(existing.id, kind, name, data)
            verb = "Updated"
        _emit(args, profile.raw, f"{verb} {kind} {name} (id {profile.id})")
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    client = _client(args)
    if args.format == "csv" and not args.json:
        sys.stdout.write(client.compare_csv(args.jobs))
        return EXIT_OK
    print(json.dumps(client.compare(args.jobs), indent=2))
    return EXIT_OK


def _params(pairs: Sequence[str]) -> dict[str, Any]:
    """--set key=value pairs, each value read as JSON when it parses (numbers, true, null)."""
    found: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise Usage(f"--set {pair!r}: use key=value")
        try:
            found[key] = json.loads(value)
        except ValueError:
            found[key] = value
    return found


def _figures(args: argparse.Namespace, answer: dict[str, Any]) -> None:
    rows = [[k, v] for k, v in answer.items() if not isinstance(v, dict | list)]
    _emit(args, answer, lambda: output.table(["figure", "value"], rows))


def cmd_risk(args: argparse.Namespace) -> int:
    request: dict[str, Any] = {"bankroll": args.bankroll}
    if args.job:
        request.update({"job": args.job, "seat": args.seat})
    else:
        request.update({"ev_per_round": args.ev, "sd_per_round": args.sd})
    for key in ("rounds", "hours", "goal", "rounds_per_hour"):
        if getattr(args, key) is not None:
            request[key] = getattr(args, key)
    request.update(_params(args.set))
    _figures(args, _client(args).risk(request))
    return EXIT_OK


def cmd_optimal_bets(args: argparse.Namespace) -> int:
    request: dict[str, Any] = {"job": args.job, "seat": args.seat, "bankroll": args.bankroll}
    keys = ("min_bet", "max_bet", "max_spread", "unit", "kelly_fraction", "risk_of_ruin")
    for key in keys:
        if getattr(args, key) is not None:
            request[key] = getattr(args, key)
    request.update(_params(args.set))
    answer = _client(args).optimal_bets(request)
    ramp = [[step.get("true_count"), step.get("bet")] for step in answer.get("ramp") or []]

    def text() -> str:
        figures = [[k, v] for k, v in answer.items() if not isinstance(v, dict | list)]
        return (
            output.table(["true count", "bet"], ramp)
            + "\n\n"
            + output.table(["figure", "value"], figures)
        )

    _emit(args, answer, text)
    return EXIT_OK


def cmd_indices(args: argparse.Namespace) -> int:
    client = _client(args)
    accepted = client.jobs.submit_indices(_read_json(args.request))
    if not args.wait:
        _emit(args, accepted.raw, f"Submitted index job {accepted.job_id}")
        return EXIT_OK
    print(f"Submitted index job {accepted.job_id}", file=sys.stderr)
    return _watch(args, client, accepted.job_id, "shoes")


def cmd_defaults(args: argparse.Namespace) -> int:
    print(json.dumps(_client(args).defaults(), indent=2))
    return EXIT_OK


def cmd_engine(args: argparse.Namespace) -> int:
    print(json.dumps(_client(args).engine(), indent=2))
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    if not args.local:
        raise Usage("jost run plays a config in this process: say --local (or use submit)")
    try:
        import jost_engine
    except ImportError:
        raise Usage("--local needs the engine: install jost_engine beside this client") from None
    config = _read_json(args.config)
    bar = output.Bar(sys.stderr)
    started = _Rate()

    def progress(done: int, asked: int) -> None:
        rate, eta = started.measure(done, asked)
        bar.draw(output.progress_line(done, asked, rate, eta, "rounds"))

    try:
        doc = jost_engine.run_simulation_from_config(config, progress=progress)
    except jost_engine.ConfigError as exc:
        bar.end()
        problems = [{"path": p, "reason": r} for p, r in (exc.problems or [("", str(exc))])]
        if args.json:
            print(json.dumps({"detail": "The simulation config is invalid.", "errors": problems}))
        else:
            print("The simulation config is invalid.", file=sys.stderr)
            for item in problems:
                print(f"  {item['path']}: {item['reason']}", file=sys.stderr)
        return EXIT_API
    except KeyboardInterrupt:
        bar.end()
        print("Interrupted: the local run stopped.", file=sys.stderr)
        return EXIT_INTERRUPTED
    bar.end()
    if args.out:
        Path(args.out).write_text(json.dumps(doc, indent=2) + "\n")
    if args.json or args.format == "json":
        print(json.dumps(doc, indent=2))
    else:
        print(output.summary(doc))
    return EXIT_OK


class _Rate:
    def __init__(self) -> None:
        import time

        self._clock = time.perf_counter
        self._start = self._clock()

    def measure(self, done: int, asked: int) -> tuple[float | None, float | None]:
        elapsed = self._clock() - self._start
        if elapsed <= 0 or done <= 0:
            return None, None
        rate = done / elapsed
        return rate, (asked - done) / rate


# --- The parser --------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON for scripts")
    common.add_argument("--url", help="the service (default: JOST_URL, else the login's)")
    common.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    common.add_argument(
        "--interval", type=float, default=1.0, help="seconds between polls while waiting"
    )
    top = argparse.ArgumentParser(
        prog="jost",
        description="The JOST Cloud API from the shell.",
        epilog="Exit codes: 0 done, 1 API error, 2 bad usage, 3 job FAILED or CANCELLED, "
        "130 interrupted.",
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, run: Callable[[argparse.Namespace], int], help: str) -> Any:
        p = sub.add_parser(name, parents=[common], help=help, description=help)
        p.set_defaults(run=run)
        return p

    p = add("login", cmd_login, "log in: store a token for URL (mode 600)")
    p.add_argument("url_arg", metavar="URL")
    p.add_argument("--username", help="asked for when not given")
    add("whoami", cmd_whoami, "who the stored or given token belongs to")
    p = add("submit", cmd_submit, "submit a config (JSON file, - for stdin)")
    p.add_argument("config", metavar="CONFIG")
    p.add_argument("--wait", action="store_true", help="follow it to the end, then summarise")
    p = add("watch", cmd_watch, "follow a job to the end, then summarise")
    p.add_argument("job", metavar="JOB")
    p = add("status", cmd_status, "a job's status and progress")
    p.add_argument("job", metavar="JOB")
    p = add("results", cmd_results, "a job's results")
    p.add_argument("job", metavar="JOB")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    p = add("jobs", cmd_jobs, "your jobs, newest first")
    p.add_argument("--status", choices=["PENDING", "RUNNING", "COMPLETE", "FAILED", "CANCELLED"])
    p.add_argument("--name", help="names containing this (any case)")
    p.add_argument("--kind", choices=["simulation", "indices"])
    p = add("cancel", cmd_cancel, "cancel a job")
    p.add_argument("job", metavar="JOB")
    p = add("validate", cmd_validate, "check a config: each problem with its path")
    p.add_argument("config", metavar="CONFIG")
    p = add(
        "profiles", cmd_profiles, "your saved profiles: list, show ID|NAME, push FILE, pull NAME"
    )
    p.add_argument("action", choices=["list", "show", "push", "pull"])
    p.add_argument("target", nargs="?", metavar="NAME|FILE")
    p.add_argument("--type", help="profile type (casino, player, playing_strategy, ...)")
    p.add_argument("--out", help="pull: write the profile to this file")
    p = add("compare", cmd_compare, "2 to 6 COMPLETE jobs side by side")
    p.add_argument("jobs", nargs="+", metavar="JOB")
    p.add_argument("--format", choices=["json", "csv"], default="json")
    p = add("risk", cmd_risk, "risk of ruin and friends, from a job's seat or EV and SD")
    p.add_argument("--job")
    p.add_argument("--seat", type=int, default=0)
    p.add_argument("--ev", type=float, help="EV per round (without --job)")
    p.add_argument("--sd", type=float, help="SD per round (without --job)")
    p.add_argument("--bankroll", type=float, required=True)
    p.add_argument("--rounds", type=int)
    p.add_argument("--hours", type=float)
    p.add_argument("--goal", type=float)
    p.add_argument("--rounds-per-hour", type=float)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p = add("optimal-bets", cmd_optimal_bets, "the bet ramp for a COMPLETE counting job")
    p.add_argument("job", metavar="JOB")
    p.add_argument("--seat", type=int, default=0)
    p.add_argument("--bankroll", type=float, required=True)
    p.add_argument("--min-bet", type=float)
    p.add_argument("--max-bet", type=float)
    p.add_argument("--max-spread", type=float)
    p.add_argument("--unit", type=float, help="bets are multiples of this")
    p.add_argument("--kelly-fraction", type=float)
    p.add_argument("--risk-of-ruin", type=float)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p = add("indices", cmd_indices, "submit an index request (JSON file)")
    p.add_argument("request", metavar="REQUEST")
    p.add_argument("--wait", action="store_true")
    add("defaults", cmd_defaults, "every profile the engine ships")
    add("engine", cmd_engine, "the engine's version, rules, limits")
    p = add("run", cmd_run, "play a config in this process (--local, needs jost_engine)")
    p.add_argument("config", metavar="CONFIG")
    p.add_argument("--local", action="store_true")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--out", help="also write the result document here")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.run(args)
        return code
    except Usage as exc:
        print(f"jost {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ApiError as exc:
        if args.json:
            print(
                json.dumps(
                    {
                        "status": exc.status,
                        "detail": exc.detail,
                        "errors": [{"path": p.path, "reason": p.reason} for p in exc.errors],
                    }
                )
            )
        print(str(exc), file=sys.stderr)
        return EXIT_API
    except JostError as exc:
        print(f"jost {args.command}: {exc}", file=sys.stderr)
        return EXIT_API
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
