#!/usr/bin/env python3
"""A minimal Trunkline CTI client (Python standard library only).

It logs in, claims the calls for a DNIS pattern, and for the first call offered: answers,
plays a prompt, collects digits, and hangs up. Every message is one JSON object per line
(docs/cti-protocol.md).

    python3 examples/cti_client.py --token SECRET --dnis '955XX' --prompt welcome
    python3 examples/cti_client.py --unix /run/trunkline/cti.sock --token SECRET

Exit status: 0 after one call was handled, 1 on an error answer or a closed connection,
2 when no call arrived within --wait seconds.
"""

import argparse
import itertools
import json
import socket
import sys
import time


class CTIError(Exception):
    def __init__(self, method, error):
        super().__init__(f"{method}: {error.get('message')} (code {error.get('code')}, {error.get('data')})")
        self.error = error


class CTIClient:
    def __init__(self, sock, verbose=False):
        self.sock = sock
        self.reader = sock.makefile("r", encoding="utf-8", newline="\n")
        self.ids = itertools.count(1)
        self.pending_events = []
        self.verbose = verbose
        self.last_seq = 0
        self.greeting = self._read()
        if self.greeting.get("method") != "session.greeting":
            raise RuntimeError(f"expected the greeting, got {self.greeting}")

    @classmethod
    def connect(cls, host=None, port=None, unix_path=None, verbose=False):
        if unix_path:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(unix_path)
        else:
            sock = socket.create_connection((host, port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(sock, verbose)

    def _read(self):
        line = self.reader.readline()
        if not line:
            raise ConnectionError("the server closed the connection")
        message = json.loads(line)
        if self.verbose:
            print("<", line.rstrip(), file=sys.stderr)
        return message

    def _note(self, message):
        """Events and notices that arrive while we wait for a response are kept in order."""
        method = message.get("method")
        if method == "event":
            self.last_seq = message["params"]["seq"]
            self.pending_events.append(message["params"])
        elif method == "events.overflow":
            params = message["params"]
            raise ConnectionError(f"overflow: lost events {params['lost_from']}..{params['lost_to']}; "
                                  f"reconnect and subscribe with since_seq={params['lost_from'] - 1}")
        elif method == "session.closed":
            raise ConnectionError(f"session closed: {message['params']}")

    def call(self, method, **params):
        request_id = next(self.ids)
        line = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params},
                          separators=(",", ":"))
        if self.verbose:
            print(">", line, file=sys.stderr)
        self.sock.sendall(line.encode("utf-8") + b"\n")
        while True:
            message = self._read()
            if message.get("id") == request_id and "method" not in message:
                if "error" in message:
                    raise CTIError(method, message["error"])
                return message["result"]
            self._note(message)

    def next_event(self, timeout=None, **match):
        """The next event whose params contain every key/value in `match`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            for index, event in enumerate(self.pending_events):
                if all(event.get(k) == v for k, v in match.items()):
                    return self.pending_events.pop(index)
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.sock.settimeout(remaining)
            try:
                self._note(self._read())
            except (socket.timeout, TimeoutError):
                return None
            finally:
                self.sock.settimeout(None)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7420)
    parser.add_argument("--unix", help="connect to this Unix socket instead of TCP")
    parser.add_argument("--token", required=True)
    parser.add_argument("--dnis", default="X.", help="DNIS pattern to claim (default: any)")
    parser.add_argument("--prompt", default="welcome", help="prompt file to play")
    parser.add_argument("--digits", type=int, default=4, help="digits to collect")
    parser.add_argument("--wait", type=float, default=60, help="seconds to wait for a call")
    parser.add_argument("--verbose", action="store_true", help="print every line sent and received")
    args = parser.parse_args()

    try:
        cti = CTIClient.connect(args.host, args.port, args.unix, args.verbose)
        session = cti.call("session.login", token=args.token, version=1, client="cti_client.py")
        print(f"logged in as {session['token']} (session {session['session_id']})")
        cti.call("events.subscribe", types=["channel.*", "playback.*", "collect.done", "op.failed"])
        claim = cti.call("calls.claim", dnis=args.dnis)
        print(f"claimed DNIS {args.dnis} ({claim['claim_id']}); waiting for a call")

        offered = cti.next_event(timeout=args.wait, type="channel.offered")
        if offered is None:
            print("no call arrived", file=sys.stderr)
            return 2
        call_id = offered["call_id"]
        print(f"call {call_id} on channel {offered['channel']}: {offered.get('ani')} -> {offered.get('dnis')}")

        cti.call("channel.answer", call_id=call_id)
        play = cti.call("channel.play", call_id=call_id, files=[args.prompt], barge_in=True)
        cti.next_event(timeout=120, type="playback.finished", op_id=play["op_id"])
        collect = cti.call("channel.collect", call_id=call_id, max_digits=args.digits, term_digits="#",
                           first_timeout_ms=10000, inter_timeout_ms=5000)
        done = cti.next_event(timeout=120, op_id=collect["op_id"])
        if done is None or done["type"] == "op.failed":
            print(f"collect failed: {done}", file=sys.stderr)
        else:
            print(f"caller entered {done['digits']!r} ({done['reason']})")
        cti.call("channel.hangup", call_id=call_id, cause=16)
        hangup = cti.next_event(timeout=10, type="channel.hangup", call_id=call_id)
        print(f"hung up (cause {hangup['cause'] if hangup else '?'}); last event seq {cti.last_seq}")
        return 0
    except (CTIError, ConnectionError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
