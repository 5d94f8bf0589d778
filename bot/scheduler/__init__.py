"""The scheduler wakes the bot; the database decides what is due."""

from bot.scheduler.runner import Scheduler

__all__ = ["Scheduler"]
