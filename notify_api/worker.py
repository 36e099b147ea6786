"""notify_api's background process: relays notify's own outbox events, sends notifications, delivers
outbound webhooks, and syncs state changes to the national portal. Safe to run several at once."""

from services.core.worker import run_worker
from services.notification.sender import sender_task
from services.notification.webhook_dispatch import webhook_task
from services.outbox.relay import relay_task
from services.portal.dispatch import portal_task


def main() -> None:
    run_worker("notify-worker", [relay_task(["notify"]), sender_task(), webhook_task(), portal_task()])


if __name__ == "__main__":
    main()
