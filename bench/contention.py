"""Write contention benchmark: 20 writers creating folders, tags and job copies for 60 s against
`flask run` on SQLite (embedded worker on, default 5 s busy timeout), as the issue reported it.

Target: 0 errors. Prints the outcome counts and write latencies; writes bench/output/contention.json.

    make bench-contention
    .venv/bin/python -m bench.contention --writers 20 --seconds 60
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from ppc_robot.lib.credentials import generate_key
from ppc_robot.lib.db import make_engine, make_session_factory
from ppc_robot.lib.folders import root_folder
from ppc_robot.lib.jobs import create_definition, create_job
from ppc_robot.lib.models import Base
from ppc_robot.lib.users import create_user
from ppc_robot.web import create_app
from ppc_robot.web import models as _web  # noqa: F401 - registers the web_* tables
from tests.support.servers import ServedApp, flask_run_command, free_port, session_cookie
from tests.support.write_load import Writer, run_writers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ppc-contention-"))
    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        Base.metadata.create_all(connection)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": os.urandom(24).hex(),
                      "PPC_ROBOT_CREDENTIALS_KEY": generate_key(), "INSTANCE_PATH": str(folder)})
    writers = []
    with make_session_factory(engine)() as session:
        for n in range(max(args.writers // 2, 1)):
            user = create_user(session, f"writer{n}@example.test", "correct horse battery staple")
            root = root_folder(session, user)
            definition = create_definition(session, user.id, "performance",
                                           parameters={"date_range": "yesterday"})
            job = create_job(session, root, definition, f"Job {n}")
            session.commit()
            writers.append(Writer(session_cookie(app, user.session_token), root.id, job.id))
    writers = [writers[i % len(writers)] for i in range(args.writers)]
    port = free_port()
    with ServedApp(app, flask_run_command(port), port, folder / "server.log",
                   PPC_ROBOT_START_WORKER="1") as server:
        load = run_writers(server.url, writers, args.seconds)
    result = {"writers": args.writers, "seconds": args.seconds, "outcomes": dict(load.outcomes),
              "errors": sum(load.failures().values()), "latency": load.summary()}
    print(json.dumps(result, indent=2))
    output = Path("bench/output")
    output.mkdir(parents=True, exist_ok=True)
    (output / "contention.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
