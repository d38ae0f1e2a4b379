"""`python -m services.intake` — serve the intake API."""

from __future__ import annotations

import uvicorn

from services.intake.app import create_app
from services.intake.settings import IntakeSettings


def main() -> None:
    settings = IntakeSettings()
    # uvloop + httptools: the event loop and HTTP parser in C; access lines are left to the structured logs
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None, loop="uvloop",
                http="httptools", access_log=False)


if __name__ == "__main__":
    main()
