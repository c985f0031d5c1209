"""Configuration: the env file every process reads, limits from the environment, production refusals."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from chapter import create_app
from chapter.extensions import db
from config import BASE_DIR, Config, ConfigurationError
from tests import factories

FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def _mail_and_jobs(tmp_path: Path) -> str:
    """Production requires a mail server and the public address; the queue is a file of the test's own (no Redis)."""
    return (f"MAIL_SERVER=127.0.0.1\nPUBLIC_BASE_URL=https://members.example.org\n"
            f"JOBS_URL=sqlite:///{tmp_path / 'jobs.sqlite'}\n")


def _run(args: list[str], env_file: Path | None, **extra: str) -> subprocess.CompletedProcess:
    """Run a command as cron would: no variables but PATH and HOME, plus the env file's name."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"), **extra}
    if env_file is not None:
        env["CHAPTER_ENV_FILE"] = str(env_file)
    return subprocess.run(args, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120)


def test_a_command_with_only_the_env_file_reaches_the_database_it_names(app, tmp_path):
    factories.user("from-env-file@example.org", is_staff=True)
    db.session.commit()
    env_file = tmp_path / "chapter.env"
    env_file.write_text(f"# production settings\nSECRET_KEY=not-a-real-secret\n{_mail_and_jobs(tmp_path)}"
                        f"DATABASE_URL={app.config['SQLALCHEMY_DATABASE_URI']}\n")
    result = _run(FLASK + ["users", "list", "--staff"], env_file)
    assert result.returncode == 0, result.stderr
    assert "from-env-file@example.org" in result.stdout


def test_limits_come_from_the_env_file_and_the_environment_wins_over_it(tmp_path):
    env_file = tmp_path / "chapter.env"
    env_file.write_text("LOGIN_MAX_FAILURES=3\nLOGIN_LOCKOUT_MINUTES=45\nLOGIN_RATE_LIMIT=7 per minute\n"
                        "ROSTER_PAGE_SIZE=25\nPASSWORD_RESET_MAX_AGE_SECONDS=600\nSECRET_KEY_FALLBACKS=old-one, older\n")
    code = ("import config; c = config.Config; print(c.LOGIN_MAX_FAILURES, c.LOGIN_LOCKOUT_MINUTES, "
            "c.LOGIN_RATE_LIMIT, c.ROSTER_PAGE_SIZE, c.PASSWORD_RESET_MAX_AGE_SECONDS, c.SECRET_KEY_FALLBACKS, sep='|')")
    result = _run([sys.executable, "-c", code], env_file, ROSTER_PAGE_SIZE="100")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3|45|7 per minute|100|600|['old-one', 'older']"


def test_a_missing_env_file_or_a_bad_number_is_one_line_not_a_traceback(tmp_path):
    missing = _run(FLASK + ["users", "list"], tmp_path / "nope.env")
    assert missing.returncode == 4
    assert "configuration error: CHAPTER_ENV_FILE names" in missing.stderr and "Traceback" not in missing.stderr
    env_file = tmp_path / "chapter.env"
    env_file.write_text("SECRET_KEY=x\nLOGIN_MAX_FAILURES=five\n")
    bad = _run(FLASK + ["users", "list"], env_file)
    assert bad.returncode == 4 and "LOGIN_MAX_FAILURES must be a whole number" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_production_refuses_to_create_an_empty_sqlite_database(tmp_path):
    target = tmp_path / "instance" / "chapter.sqlite"
    with pytest.raises(ConfigurationError, match="do not create an empty SQLite database"):
        create_app(Config, SECRET_KEY="x", MAIL_SERVER="127.0.0.1", PUBLIC_BASE_URL="https://members.example.org",
                   SQLALCHEMY_DATABASE_URI=f"sqlite:///{target}")
    env_file = tmp_path / "cron.env"
    env_file.write_text(f"SECRET_KEY=x\n{_mail_and_jobs(tmp_path)}DATABASE_URL=sqlite:///{target}\n")
    result = _run(FLASK + ["renewals", "run", "--no-charge"], env_file)
    assert result.returncode == 4 and "Set DATABASE_URL" in result.stderr and "Traceback" not in result.stderr
    assert not target.exists()


def test_development_settings_still_create_the_local_sqlite_database(tmp_path):
    from config import DevelopmentConfig

    target = tmp_path / "dev.sqlite"
    app = create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{target}")
    assert app.config["ENVIRONMENT"] == "development"


def test_gunicorn_stops_with_one_line_when_the_settings_are_missing(tmp_path):
    env_file = tmp_path / "empty.env"
    env_file.write_text("# no SECRET_KEY\n")
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    result = _run([gunicorn, "--workers", "2", "--bind", f"unix:{tmp_path / 'gunicorn.sock'}", "wsgi:app"], env_file)
    # It exits by itself (the timeout would fail the test) instead of restarting workers forever.
    assert result.returncode != 0
    assert "configuration error: SECRET_KEY is not set" in result.stderr
    # No traceback through our code. (When both workers die at once, gunicorn 27 itself may print the
    # traceback of its own HaltServer, raised again while halting: its race, not ours; the operator still
    # reads our one line above it.)
    our_frames = [f'File "{BASE_DIR / name}' for name in ("chapter", "config.py", "wsgi.py")]
    assert not any(frame in result.stderr for frame in our_frames), result.stderr


def test_the_documented_cron_lines_run_with_no_variables_but_the_env_file(app, tmp_path):
    """docs/deploy/chapter.cron as cron runs it: `sh -c` with PATH and HOME only, from the code's directory.

    The file would be /srv/chapter/instance/.env; CHAPTER_ENV_FILE stands in for it here, because a
    real instance/.env in the working tree would be read by every other process too."""
    env_file = tmp_path / "chapter.env"
    env_file.write_text(f"SECRET_KEY=not-a-real-secret\nDATABASE_URL={app.config['SQLALCHEMY_DATABASE_URI']}\n"
                        f"BACKUP_DIR={tmp_path / 'backups'}\nSTRIPE_SECRET_KEY=sk_test_unused\n{_mail_and_jobs(tmp_path)}")
    # Active lines, and the commented-out alternatives ("# 15 6 * * *  ..."), which must work as well.
    entries = re.findall(r"^(?:# )?(?:[\d*,/-]+\s+){5}(cd .+)$", (BASE_DIR / "docs/deploy/chapter.cron").read_text(), re.M)
    commands = [entry.strip() for entry in entries]
    assert any("renewals run" in command for command in commands) and any(" backup" in command for command in commands)
    readme = (BASE_DIR / "README.md").read_text()
    for command in commands:
        assert command in readme, f"README's cron lines and docs/deploy/chapter.cron differ: {command}"
        result = _run(["sh", "-c", command.replace("/srv/chapter", str(BASE_DIR))], env_file)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
    assert list((tmp_path / "backups").iterdir()), "the backup line wrote no backup"


def test_a_rotated_secret_key_keeps_sessions_signed_with_the_old_one_when_it_is_a_fallback(app):
    from tests.conftest import Browserish

    factories.user("rotate@example.org")
    db.session.commit()
    without, with_fallback = Browserish(app.test_client()), Browserish(app.test_client())

    def fresh(action, *args):
        with app.app_context():  # a g of its own, as each real request has (Flask-Login caches the user in g)
            return action(*args)

    app.config.update(SECRET_KEY="the-old-key", SECRET_KEY_FALLBACKS=[])
    fresh(without.login, "rotate@example.org")
    fresh(with_fallback.login, "rotate@example.org")
    app.config.update(SECRET_KEY="the-new-key", SECRET_KEY_FALLBACKS=["the-old-key"])
    assert fresh(with_fallback.get, "/dashboard").status_code == 200
    app.config.update(SECRET_KEY_FALLBACKS=[])
    assert fresh(with_fallback.get, "/dashboard").status_code == 200  # its cookie was re-signed with the new key
    assert fresh(without.get, "/dashboard").status_code == 302  # an old cookie without the fallback: log in again
