"""Checkpoint persistence: the Redis saver every graph of the app runs on."""

from core.checkpoint.redis_saver import RedisSaver, ThreadInfo

__all__ = ["RedisSaver", "ThreadInfo"]
