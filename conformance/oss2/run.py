"""Run oss2's own test suite against Ferry and hold the pass count to a ratchet.

1. Downloads the pinned oss2 source distribution (which ships ``tests/``) once into
   ``conformance/work/``.
2. Starts Ferry with three regions on loopback: ``oss-cn-hangzhou`` (the suite's endpoint),
   ``oss-cn-beijing``, and ``oss-ap-south-1``, where the suite creates its replication
   destination at the fixed host ``oss-ap-south-1.aliyuncs.com``: ``HTTP_PROXY`` points at that
   region, so those requests reach it in absolute form with the bucket in the Host.
3. Runs the files of ``include.txt`` with auth v1 and v4 (``random`` seeded per test by the
   ``seeded_random`` plugin, so tests that draw a bucket at random draw the same one every
   run), writes a per-file summary to
   ``conformance/work/summary.{json,md}``, and fails when a version passes fewer tests than
   ``baseline.json`` records (the ratchet: raise the numbers as the surface grows).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
WORK = ROOT / "conformance" / "work"
OSS2_VERSION = "2.19.1"
KEY_ID, KEY_SECRET = "LTAIferryconformance", "ferry-conformance-secret"
SYNC_ROLE_ARN = "acs:ram::1000000000000000:role/ferry-sync-role"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def suite_dir() -> Path:
    target = WORK / f"oss2-{OSS2_VERSION}"
    if (target / "tests").is_dir():
        return target
    WORK.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"oss2=={OSS2_VERSION}",
            "-d",
            str(WORK),
        ],
        check=True,
    )
    with tarfile.open(WORK / f"oss2-{OSS2_VERSION}.tar.gz") as archive:
        archive.extractall(WORK, filter="data")
    return target


def write_config(path: Path, ports: dict[str, int]) -> None:
    lines = [
        f'data_dir = "{WORK / "data"}"',
        "",
        "[replication]",
        # OSS keeps a new rule "starting" for a while and the suite checks it right away.
        "rule_settle_seconds = 30",
        "",
    ]
    for name, port in ports.items():
        lines += [
            "[[region]]",
            f'name = "{name}"',
            f'listen = "127.0.0.1:{port}"',
            f'endpoint = "http://127.0.0.1:{port}"',
            "rtc = true",
            "",
        ]
    names = list(ports)
    for src in names:
        for dst in names:
            if src != dst:
                lines += [
                    "[[route]]",
                    f'from = "{src}"',
                    f'to = "{dst}"',
                    'transfer_types = ["internal", "oss_acc"]',
                    "",
                ]
    path.write_text("\n".join(lines))


def wait_listening(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"Ferry did not listen on {port}")


def create_payer(config: Path) -> dict[str, str]:
    """A second account for the request-payment tests (``OSS_TEST_PAYER_*``): they grant it the
    bucket by a bucket policy whose Principal is its account id, and call as the requester."""
    name = f"payer-{os.getpid()}-{int(time.time())}"  # the data directory outlives a run
    out = subprocess.run(
        [sys.executable, "-m", "ferry", "iam", "create-account", name, "--config", str(config), "--json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    account = json.loads(out)
    return {
        "OSS_TEST_PAYER_UID": account["AccountId"],
        "OSS_TEST_PAYER_ACCESS_KEY_ID": account["AccessKeyId"],
        "OSS_TEST_PAYER_ACCESS_KEY_SECRET": account["AccessKeySecret"],
    }


def excluded_tests() -> list[str]:
    """Node ids of the tests ``excluded.md`` lists (first column of its table rows)."""
    ids = []
    for line in (HERE / "excluded.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells and "::" in cells[0]:
            ids.append(cells[0])
    return ids


def run_suite(suite: Path, files: list[str], version: str, env: dict[str, str]) -> Path:
    report = WORK / f"junit-{version}.xml"
    ini = WORK / "pytest.ini"
    ini.write_text("[pytest]\n")  # the suite runs on its own, not under Ferry's pytest settings
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "--continue-on-collection-errors",
            "--tb=native",  # pytest's own formatting trips an AST bug of Python 3.11.7 (test_crypto.py)
            "-p",
            "no:cacheprovider",
            "-p",
            "seeded_random",
            "-c",
            str(ini),
            "--rootdir",
            str(suite),
            f"--junitxml={report}",
            "-p",
            "exclude_plugin",
            *files,
        ],
        cwd=suite,
        env={
            **env,
            "OSS_TEST_AUTH_VERSION": version,
            "FERRY_OSS2_EXCLUDED": "\n".join(excluded_tests()),
            "PYTHONPATH": f"{suite}{os.pathsep}{HERE}",
        },
        check=False,
    )
    return report


def summarize(report: Path) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"passed": 0, "failed": 0, "skipped": 0})
    for case in ET.parse(report).getroot().iter("testcase"):
        module = case.get("classname", "?").rsplit(".", 1)[0]  # tests.test_x.TestClass -> tests.test_x
        name = module.replace(".", "/") + ".py"
        if case.find("skipped") is not None:
            counts[name]["skipped"] += 1
        elif case.find("failure") is not None or case.find("error") is not None:
            counts[name]["failed"] += 1
        else:
            counts[name]["passed"] += 1
    return dict(counts)


def main(argv: list[str]) -> int:
    """With no arguments, run ``include.txt`` and enforce the ratchet; with test files
    (``tests/test_x.py``) and optionally ``--versions v4``, run just those as a survey."""
    suite = suite_dir()
    versions = ("v1", "v4")
    if "--versions" in argv:
        at = argv.index("--versions")
        versions = tuple(argv[at + 1].split(","))
        argv = argv[:at] + argv[at + 2 :]
    survey = bool(argv)
    files = argv or [
        line.strip()
        for line in (HERE / "include.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    ports = {"oss-cn-hangzhou": free_port(), "oss-cn-beijing": free_port(), "oss-ap-south-1": free_port()}
    config = WORK / "ferry.toml"
    write_config(config, ports)
    env = dict(os.environ)
    env.update(
        OSS_ACCESS_KEY_ID=KEY_ID,
        OSS_ACCESS_KEY_SECRET=KEY_SECRET,
        OSS_TEST_ACCESS_KEY_ID=KEY_ID,
        OSS_TEST_ACCESS_KEY_SECRET=KEY_SECRET,
        OSS_TEST_ENDPOINT=f"http://127.0.0.1:{ports['oss-cn-hangzhou']}",
        OSS_TEST_REGION="cn-hangzhou",
        OSS_TEST_RAM_ROLE_ARN=SYNC_ROLE_ARN,
        HTTP_PROXY=f"http://127.0.0.1:{ports['oss-ap-south-1']}",
        NO_PROXY="127.0.0.1,localhost",
        PYTHONPATH=os.pathsep.join([str(suite), str(HERE)]),  # HERE: the seeded_random plugin
    )
    env.pop("http_proxy", None)
    with open(WORK / "ferry.log", "ab") as log:
        ferry = subprocess.Popen(
            [sys.executable, "-m", "ferry", "up", "--config", str(config)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        for port in ports.values():
            wait_listening(port)
        env.update(create_payer(config))
        time.sleep(1)  # running servers see a new account within a quarter of a second
        results = {v: summarize(run_suite(suite, files, v, env)) for v in versions}
    finally:
        ferry.send_signal(signal.SIGINT)
        ferry.wait(timeout=30)
    return report(results, enforce=not survey)


def report(results: dict[str, dict[str, dict[str, int]]], enforce: bool = True) -> int:
    baseline = json.loads((HERE / "baseline.json").read_text())["minimum_passed"]
    (WORK / "summary.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = ["| auth | file | passed | failed | skipped |", "|---|---|---|---|---|"]
    status = 0
    for version, per_file in results.items():
        for name, c in sorted(per_file.items()):
            lines.append(f"| {version} | {name} | {c['passed']} | {c['failed']} | {c['skipped']} |")
        passed = sum(c["passed"] for c in per_file.values())
        failed = sum(c["failed"] for c in per_file.values())
        skipped = sum(c["skipped"] for c in per_file.values())
        minimum = int(baseline.get(version, 0))
        verdict = "ok" if passed >= minimum else "BELOW THE RATCHET"
        lines.append(f"| {version} | total | {passed} | {failed} | {skipped} |")
        print(
            f"oss2 conformance {version}: {passed} passed, {failed} failed, {skipped} skipped "
            f"(ratchet {minimum}: {verdict})"
        )
        if enforce and passed < minimum:
            status = 1
    (WORK / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
