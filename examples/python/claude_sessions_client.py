#!/usr/bin/env python3
"""A small claude-sessions client in Python, on stubs generated from proto/.

It pings the daemon, starts ``bash`` in a session, follows the session's output
in a background thread, types a command, waits for its output, captures the
screen and stops the session:

    examples/python/generate.sh
    python3 examples/python/claude_sessions_client.py ~/.claude-sessions/daemon.sock /tmp

Each step prints one kind of line (``pong:``, ``started:``, ``sent:``,
``output:``, ``screen:``, ``stopped:``), so a script can read what happened.
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
from pathlib import Path

# The generated modules live beside this file (examples/python/gen), not in an
# installed package; see generate.sh.
sys.path.insert(0, str(Path(__file__).resolve().parent / "gen"))

try:
    import grpc
    from google.protobuf import duration_pb2

    from claude_sessions.v1 import (
        daemon_pb2,
        daemon_pb2_grpc,
        session_pb2,
        session_service_pb2,
        session_service_pb2_grpc,
    )
except ImportError as error:  # pragma: no cover - a setup problem, reported plainly
    sys.exit(
        f"cannot import the gRPC stubs ({error}); install python3-grpcio and "
        "python3-grpc-tools (or pip install grpcio grpcio-tools) and run "
        "examples/python/generate.sh first"
    )

MARKER = "hello-from-python"

# CSI sequences (colours, cursor moves, bracketed paste), OSC sequences (window
# titles) and two-byte escapes: enough to show a shell's output as plain lines.
ANSI_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]"
)

_print_lock = threading.Lock()


def say(kind: str, text: str) -> None:
    """Prints one ``kind: text`` line; the follower thread prints too."""
    with _print_lock:
        print(f"{kind}: {text}", flush=True)


def state_name(state: int) -> str:
    """SESSION_STATE_STOPPED -> STOPPED."""
    return session_pb2.SessionState.Name(state).removeprefix("SESSION_STATE_")


def plain_line(raw: str) -> str:
    """What a terminal would show for one line of output, without colours."""
    text = ANSI_ESCAPE.sub("", raw).rstrip("\r")
    # A carriage return moves back to the start of the line: what follows it
    # overwrites what came before.
    return text.rsplit("\r", 1)[-1]


class OutputFollower(threading.Thread):
    """Follows a session's output with AttachSession(follow=True).

    The stream replays the log from its first entry and then sends live
    entries until the session ends, so nothing is missed even if this thread
    starts after the input was sent.
    """

    def __init__(self, sessions: session_service_pb2_grpc.SessionServiceStub, session_id: str):
        super().__init__(name="output-follower", daemon=True)
        self._responses = sessions.AttachSession(
            session_service_pb2.AttachSessionRequest(session_id=session_id, follow=True)
        )
        self._changed = threading.Condition()
        self._lines: list[str] = []
        self._partial = ""
        self._ended = False
        self.error: grpc.RpcError | None = None

    def run(self) -> None:
        try:
            for response in self._responses:
                for entry in response.entries:
                    if entry.kind == session_pb2.LOG_ENTRY_KIND_OUTPUT:
                        self._add_output(entry.data)
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.CANCELLED:
                self.error = error
        finally:
            with self._changed:
                if self._partial:
                    self._add_line(self._partial)
                self._ended = True
                self._changed.notify_all()

    def _add_output(self, data: str) -> None:
        with self._changed:
            *complete, self._partial = (self._partial + data).split("\n")
            for line in complete:
                self._add_line(line)
            self._changed.notify_all()

    def _add_line(self, raw: str) -> None:
        line = plain_line(raw)
        if line.strip():
            self._lines.append(line)
            say("output", line)

    def wait_for_line(self, wanted: str, timeout: float) -> bool:
        """Waits until a whole line of output is exactly ``wanted``."""
        with self._changed:
            return self._changed.wait_for(
                lambda: wanted in self._lines or self._ended, timeout
            ) and wanted in self._lines

    def cancel(self) -> None:
        self._responses.cancel()


def run(socket_path: str, working_dir: str) -> int:
    # grpc's C core names unix sockets "unix:<path>".
    with grpc.insecure_channel(f"unix:{socket_path}") as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=5)
        except grpc.FutureTimeoutError:
            print(f"error: no daemon answers on {socket_path}", file=sys.stderr)
            return 1
        daemon = daemon_pb2_grpc.DaemonServiceStub(channel)
        sessions = session_service_pb2_grpc.SessionServiceStub(channel)

        pong = daemon.Ping(daemon_pb2.PingRequest(), timeout=5)
        say(
            "pong",
            f"version={pong.version} pid={pong.pid} "
            f"uptime={pong.uptime.ToTimedelta().total_seconds():.1f}s home={pong.home}",
        )

        started = sessions.StartSession(
            session_service_pb2.StartSessionRequest(
                working_dir=working_dir,
                # An explicit command instead of the default (Claude Code); no
                # rc files, so the shell behaves the same for everyone.
                command=["bash", "--norc", "--noprofile"],
                cols=100,
                rows=30,
            ),
            timeout=10,
        ).session
        say("started", f"{started.id} pid={started.pid} state={state_name(started.state)}")

        follower = OutputFollower(sessions, started.id)
        follower.start()
        try:
            sent = sessions.SendInput(
                session_service_pb2.SendInputRequest(
                    session_id=started.id, text=f"echo {MARKER}\r"
                ),
                timeout=5,
            )
            say("sent", f"{sent.bytes_written} bytes")

            # The typed command line also contains the marker; only the
            # command's output is a line that is exactly the marker.
            if not follower.wait_for_line(MARKER, timeout=15):
                reason = follower.error.details() if follower.error else "timed out"
                print(f"error: {MARKER} never appeared in the output ({reason})", file=sys.stderr)
                return 1

            screen = sessions.CaptureScreen(
                session_service_pb2.CaptureScreenRequest(session_id=started.id), timeout=5
            )
            for line in screen.text.splitlines():
                if line.strip():
                    say("screen", line)
        finally:
            stopped = sessions.StopSession(
                session_service_pb2.StopSessionRequest(
                    session_id=started.id,
                    # An interactive bash ignores SIGTERM; do not wait the
                    # default 5 s before the SIGKILL.
                    grace_period=duration_pb2.Duration(seconds=1),
                ),
                timeout=15,
            ).session
            # The follow stream completes by itself once the session ends.
            follower.join(timeout=5)
            if follower.is_alive():
                follower.cancel()
                follower.join()

        how = f" signal={stopped.exit_signal}" if stopped.exit_signal else ""
        if stopped.HasField("exit_code"):
            how += f" exit_code={stopped.exit_code}"
        say("stopped", f"{state_name(stopped.state)}{how}")
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("socket", help="the daemon's socket, e.g. ~/.claude-sessions/daemon.sock")
    parser.add_argument("working_dir", help="an absolute directory to run bash in")
    args = parser.parse_args(argv)
    try:
        # The daemon takes absolute directories only; resolve like the CLI does.
        return run(args.socket, str(Path(args.working_dir).resolve()))
    except grpc.RpcError as error:
        print(f"error: {error.code().name}: {error.details()}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
