"""The mailsim command line.

    mailsim run PATH... [--seed N] [--set key=value]... [--junit FILE] [--json FILE]
                        [--transcript FILE] [--quiet]

Every scenario is loaded (and its templates rendered) before the first run starts, so a typo
fails in a second, not after an hour. Exit status: 0 when every expectation of every scenario
passed, 1 when one failed (or a run could not finish), 2 for a usage or load error
(printed as file:line:column: message). A failure prints its seed and the exact command that
reproduces it.
"""

import argparse
import json
import os
import shlex
import sys
import time

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse with mailsim's usage exit status (2) and message prefix."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"mailsim: {message}\n")


def _parser():
    parser = _Parser(prog="mailsim", description="Run simulated-internet email scenarios.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = commands.add_parser("run", help="run scenario files or suite folders")
    run.add_argument("paths", nargs="+", metavar="PATH",
                     help="a scenario (.yaml, .yaml.j2) or a folder of them (a suite)")
    run.add_argument("--seed", type=int, help="replace every scenario's seed")
    run.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                     help="a template variable (.j2) or an override of a dotted path; repeatable")
    run.add_argument("--junit", metavar="FILE", help="write JUnit XML for the whole run")
    run.add_argument("--json", metavar="FILE", help="write the JSON reports of every scenario")
    run.add_argument("--transcript", metavar="FILE",
                     help="write the transcript (FILE-<scenario> when there are several)")
    run.add_argument("--quiet", action="store_true",
                     help="no progress; print only failures and the suite verdict")
    return parser


class _Progress:
    """Progress on stderr, shown only once a run has taken a few seconds of real time
    ($MAILSIM_PROGRESS_AFTER seconds, 2 by default)."""

    def __init__(self, name, enabled):
        self.name = name
        self.enabled = enabled
        self.after_s = float(os.environ.get("MAILSIM_PROGRESS_AFTER", "2"))
        self.started = time.monotonic()
        self.shown = 0.0
        self.printed = False
        self.tty = sys.stderr.isatty()

    def __call__(self, fraction):
        if not self.enabled:
            return
        now = time.monotonic()
        interval = 0.5 if self.tty else 10.0
        if now - self.started < self.after_s or (now - self.shown < interval and fraction < 1.0):
            return
        self.shown = now
        self.printed = True
        text = f"{self.name}: {fraction * 100:5.1f}% of virtual time, {now - self.started:.0f}s"
        sys.stderr.write(("\r" + text) if self.tty else (text + "\n"))
        sys.stderr.flush()

    def done(self):
        if self.printed and self.tty:
            sys.stderr.write("\n")


def _transcript_path(base, path, count):
    if not base or count == 1:
        return base
    stem = os.path.basename(path).split(".")[0]
    root, ext = os.path.splitext(base)
    return f"{root}-{stem}{ext}"


def _command(sets):
    """How the user ran us, for the runner's reproduce line: "mailsim run --set k=v ...".

    The runner appends "FILE --seed N", which argparse reads in that order too.
    """
    words = ["mailsim", "run"]
    for assignment in sets:
        words += ["--set", assignment]
    return shlex.join(words)


def _load_all(paths, params):
    """[(path, Scenario)] for every scenario, or None after printing every load error."""
    from mailsim import suite
    from mailsim.errors import ScenarioError

    loaded, failed = [], False
    for path in paths:
        try:
            loaded.append((path, suite.load(path, params)))
        except ScenarioError as e:
            print(str(e), file=sys.stderr)
            failed = True
    return None if failed else loaded


def _run_one(path, scenario, args, count):
    from mailsim import _core

    progress = _Progress(scenario.name or path, not args.quiet)
    result = _core.run(scenario, seed=args.seed, progress=progress,
                       transcript_path=_transcript_path(args.transcript, path, count) or "",
                       command=_command(args.sets))
    progress.done()
    if not args.quiet or not result.passed:
        text = result.text().rstrip("\n")
        print(text)
        if not result.passed and result.reproduce not in text:
            print(f"seed {result.seed}; reproduce with: {result.reproduce}")
        print()
    return result


def _suite_name(paths):
    """The JUnit suite's name: the one folder or file run, else "mailsim"."""
    if len(paths) != 1:
        return "mailsim"
    return os.path.basename(os.path.normpath(paths[0])) or "mailsim"


def _write_reports(args, results):
    from mailsim import _core

    if args.junit:
        with open(args.junit, "w", encoding="utf-8") as f:
            f.write(_core.junit_xml(_suite_name(args.paths), results))
    if args.json:
        document = {"passed": all(r.passed for r in results),
                    "scenarios": [json.loads(r.json()) for r in results]}
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(document, f, indent=2)
            f.write("\n")


def _verdict(results):
    failed = [r for r in results if not r.passed]
    word = "PASSED" if not failed else "FAILED"
    noun = "scenario" if len(results) == 1 else "scenarios"
    print(f"suite {word}: {len(results)} {noun}, {len(results) - len(failed)} passed, "
          f"{len(failed)} failed")
    for r in failed:
        print(f"  failed: {r.file} (seed {r.seed})")
    return EXIT_FAILED if failed else EXIT_PASSED


def _run_command(args):
    from mailsim import render, suite
    from mailsim.errors import ScenarioError

    try:
        params = dict(render.parse_assignment(s) for s in args.sets)
        paths = suite.discover(args.paths)
    except (ValueError, ScenarioError) as e:
        print(f"mailsim: {e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        import mailsim._core  # noqa: F401 - fail early with a clear message
    except ImportError as e:
        print(f"mailsim: the simulator module is not built ({e})", file=sys.stderr)
        return EXIT_USAGE
    loaded = _load_all(paths, params)
    if loaded is None:
        return EXIT_USAGE
    results = [_run_one(path, s, args, len(loaded)) for path, s in loaded]
    try:
        _write_reports(args, results)
    except OSError as e:
        print(f"mailsim: cannot write a report: {e}", file=sys.stderr)
        return EXIT_USAGE
    return _verdict(results)


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run_command(args)
    except KeyboardInterrupt:
        # The run stops within a virtual hour of Ctrl-C (the progress relay checks signals).
        print("\nmailsim: interrupted", file=sys.stderr)
        return 130
    return EXIT_USAGE
