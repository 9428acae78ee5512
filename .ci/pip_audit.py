"""Run pip-audit on requirements.txt and say plainly what it could and could not check.

pip-audit asks a vulnerability service (PyPI's JSON API or OSV) about each pinned package.
When that service cannot be reached it does not fail: it marks every package "skipped" and
still prints "No known vulnerabilities found", which would make CI green for the wrong reason.
This wrapper reads pip-audit's JSON report and decides:

- a known vulnerability in an audited package: exit 1 (the build fails);
- the service unreachable (a network error, or no package could be audited): a clear
  "NOT AUDITED" notice and exit 0, so the build does not fail only for that reason,
  unless PIP_AUDIT_STRICT=1 (a CI machine that should reach the service);
- otherwise: exit 0, naming any package that could not be checked.
"""

import json
import os
import subprocess
import sys

NETWORK_ERRORS = ("ConnectionError", "NameResolutionError", "Max retries exceeded", "Temporary failure in name resolution",
                  "Network is unreachable", "timed out", "SSLError", "ProxyError")


def main(argv: list[str]) -> int:
    requirements = argv[1] if len(argv) > 1 else "requirements.txt"
    command = os.environ.get("PIP_AUDIT", "pip-audit").split()
    strict = os.environ.get("PIP_AUDIT_STRICT", "") in ("1", "on", "true", "yes")
    result = subprocess.run(  # nosec B603: a fixed command line built from our own settings, no shell
        [*command, "-r", requirements, "-f", "json", "--progress-spinner", "off"], capture_output=True, text=True,
    )
    try:
        report = json.loads(result.stdout or "null")
    except json.JSONDecodeError:
        report = None
    if not isinstance(report, dict) or "dependencies" not in report:
        if any(marker in result.stderr for marker in NETWORK_ERRORS):
            return unreachable(strict, last_line(result.stderr))
        sys.stderr.write(result.stderr)
        print(f"pip-audit: FAILED to run (exit {result.returncode}).")
        return result.returncode or 1

    dependencies = report["dependencies"]
    vulnerable = [dep for dep in dependencies if dep.get("vulns")]
    skipped = [dep for dep in dependencies if dep.get("skip_reason")]
    audited = len(dependencies) - len(skipped)
    if vulnerable:
        print(f"pip-audit: {len(vulnerable)} of {len(dependencies)} packages have known vulnerabilities:")
        for dep in vulnerable:
            for vuln in dep["vulns"]:
                fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
                print(f"  {dep['name']} {dep.get('version', '')}: {vuln.get('id')} (fixed in {fixes})")
        return 1
    if dependencies and audited == 0:
        return unreachable(strict, skipped[0]["skip_reason"])
    print(f"pip-audit: no known vulnerabilities in the {audited} audited packages.")
    for dep in skipped:
        print(f"  not audited: {dep['name']}: {dep['skip_reason']}")
    return 0


def unreachable(strict: bool, reason: str) -> int:
    print("pip-audit: NOT AUDITED - the vulnerability database could not be reached from this machine, so no "
          "package was checked. This is not a pass: run this step where PyPI's JSON API or "
          f"api.osv.dev is reachable. Reason: {reason}")
    if strict:
        print("pip-audit: PIP_AUDIT_STRICT is set, so this fails the build.")
        return 2
    return 0


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "unknown error"


if __name__ == "__main__":
    sys.exit(main(sys.argv))
