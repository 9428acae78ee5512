"""An SMS backend for the worker integration test: the file backend, slowed down so that the
test can kill the worker in the middle of a chunk."""

import time

from campaigns.sms import FileBackend


class SlowFileBackend(FileBackend):
    def send(self, to_e164: str, text: str, idempotency_key: str) -> str:
        time.sleep(0.15)
        return super().send(to_e164, text, idempotency_key)
