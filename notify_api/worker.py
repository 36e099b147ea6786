"""notify_api's background process: relays notify's own outbox events, sends notifications, and
delivers outbound webhooks. Safe to run several at once."""

from services.core.worker import run_worker
from services.notification.sender import sender_task
from services.notification.webhook_dispatch import webhook_task
from services.outbox.relay import relay_task


def main() -> None:
    run_worker("notify-worker", [relay_task(["notify"]), sender_task(), webhook_task()])


if __name__ == "__main__":
    main()
