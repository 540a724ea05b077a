"""A mail server for the reminder tests: aiosmtpd on 127.0.0.1, writing every message it
receives to a folder as <n>.eml, and what a mail program would show of it as <n>.json
(envelope recipients, From, To, Subject, the List-Unsubscribe headers, the text and HTML
parts decoded). Each file is written under a temporary name, then renamed, so a reader
never sees half of one; the .json comes last.

usage: python smtp_sink.py PORT FOLDER

Prints "ready" once it listens, and stops when its standard input closes.
"""

import email
import email.policy
import itertools
import json
import os
import sys
import threading

from aiosmtpd.controller import Controller


class Folder:
    def __init__(self, folder):
        self.folder = folder
        self.numbers = itertools.count(1)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            n = next(self.numbers)
        raw = envelope.original_content or envelope.content
        self.write(f"{n}.eml", raw)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        body = lambda kind: (lambda part: part.get_content() if part else None)(
            message.get_body(preferencelist=(kind,))
        )
        shown = {
            "envelope_to": envelope.rcpt_tos,
            "from": str(message["From"]),
            "to": str(message["To"]),
            "subject": str(message["Subject"]),
            "list_unsubscribe": message["List-Unsubscribe"] and str(message["List-Unsubscribe"]),
            "list_unsubscribe_post": message["List-Unsubscribe-Post"]
            and str(message["List-Unsubscribe-Post"]),
            "text": body("plain"),
            "html": body("html"),
        }
        self.write(f"{n}.json", json.dumps(shown).encode())
        return "250 OK"

    def write(self, name, data):
        part = os.path.join(self.folder, f".{name}.part")
        with open(part, "wb") as f:
            f.write(data)
        os.replace(part, os.path.join(self.folder, name))


def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    os.makedirs(folder, exist_ok=True)
    controller = Controller(Folder(folder), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
