"""workflow_api's background process: relays its outbox events and fires the SLA warnings."""

from services.core.worker import run_worker
from services.outbox.relay import relay_task
from services.sla.timers import timer_task


def main() -> None:
    run_worker("workflow-worker", [relay_task(["workflow"]), timer_task()])


if __name__ == "__main__":
    main()
