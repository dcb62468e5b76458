"""Make sure Debian's Chromium is installed for the browser tests (installs it as root)."""

import os
import shutil
import subprocess
import sys

CHROMIUM = os.environ.get("LANDPAY_CHROMIUM", "/usr/bin/chromium")


def main() -> int:
    if os.path.exists(CHROMIUM) or shutil.which("chromium"):
        return 0
    if os.geteuid() != 0:
        print("chromium is missing: install Debian's 'chromium' package for the browser tests", file=sys.stderr)
        return 0  # the browser tests then fail with the same message
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    apt = shutil.which("apt-get") or "/usr/bin/apt-get"
    subprocess.run([apt, "update", "-qq"], check=True, env=env)  # noqa: S603
    subprocess.run([apt, "install", "-y", "-qq", "chromium"], check=True, env=env)  # noqa: S603
    return 0


if __name__ == "__main__":
    sys.exit(main())
