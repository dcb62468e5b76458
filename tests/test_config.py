"""Development secrets made at first run: several processes starting at once (make run starts
the app and its worker together) must all get the same, whole secret."""

from __future__ import annotations

import multiprocessing

from app import config


def _read(args):
    directory, barrier = args
    config.INSTANCE_DIR = directory
    barrier.wait()
    return config.instance_secret("secret-key")


def test_processes_starting_together_share_one_secret(tmp_path):
    ctx = multiprocessing.get_context("fork")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(8)
        with ctx.Pool(8) as pool:
            secrets = pool.map(_read, [(tmp_path, barrier)] * 8)
    assert len(set(secrets)) == 1 and len(secrets[0]) >= 48
    assert [p.name for p in tmp_path.iterdir()] == ["secret-key"]  # no temporary files left
    assert (tmp_path / "secret-key").stat().st_mode & 0o777 == 0o600
