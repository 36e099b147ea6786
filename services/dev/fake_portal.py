"""A fake national portal (DVCQG sync endpoint) for tests and the ``make run`` demo: a real HTTP server.

``python -m services.dev.fake_portal [--port 8091]`` serves it alone (devrun starts it in demo mode and
points ``MOTCUA_NATIONAL_PORTAL_URL`` at it); tests start :class:`FakePortal` in their own process on a
free port and steer it directly. What it does, as the real portal would:

- ``POST /dvcqg/dongbohoso`` — checks HTTP Basic credentials (when given), the ``Idempotency-Key`` (=
  ``MaDongBo``) and the body: required fields and their types, codes in range (``TrangThaiHoSo`` 1–10,
  ``HinhThuc`` 1–3, ``TinhTrangXuLy`` 1–3 and only on a finished state), times ISO 8601 with +07:00, no
  unknown field (400 with ``MaLoi``). An accepted sync is answered ``{"MaXacNhan": …, "TrungLap": false}``;
  the same ``MaDongBo`` again ``{"MaXacNhan": <the first id>, "TrungLap": true}`` and is not stored twice.
- It records, per dossier, the states in the order they arrived and flags a ``SoThuTu`` lower than one
  already accepted (``out_of_order``): the tests' proof that no later state overtook an earlier one.
- It can be told to fail (``fail_next`` answers 500; ``fail_for`` some dossiers always), to be slow
  (``delay`` seconds before answering), or to accept and then be slow (``delay_after_accept``: the sender
  times out, retries, and gets a duplicate), or to answer duplicates (``duplicate_next``: ``TrungLap: true``).
- ``GET /dvcqg/hoso/{MaHoSo}`` — what it accepted for one dossier; ``GET /healthz``; ``POST /_control``
  with ``{"fail_next": n, "delay": s}`` steers the demo's instance.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import unquote

SYNC_PATH = "/dvcqg/dongbohoso"
REQUIRED: Mapping[str, type] = {
    "MaDongBo": str,
    "SoThuTu": int,
    "MaHoSo": str,
    "MaTTHC": str,
    "MaCoQuan": str,
    "HinhThuc": int,
    "TrangThaiHoSo": int,
    "ThoiDiemCapNhat": str,
    "LoaiDoiTuong": int,
    "ChuHoSo": str,
    "MaDinhDanh": str,
}
TIMES = ("ThoiDiemCapNhat", "NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTraKetQua")
OPTIONAL: Mapping[str, type] = {**{name: str for name in TIMES[1:]}, "TinhTrangXuLy": int}
_VN_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def problems(body: Any) -> list[str]:
    """What is wrong with a sync body (empty: valid)."""
    if not isinstance(body, dict):
        return ["body is not an object"]
    found = [f"missing {name}" for name in REQUIRED if name not in body]
    found += [f"unknown field {name}" for name in body if name not in REQUIRED and name not in OPTIONAL]
    for name, kind in {**REQUIRED, **OPTIONAL}.items():
        value = body.get(name)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            found.append(f"{name} is not {kind.__name__}")
    for name in TIMES:
        value = body.get(name)
        if isinstance(value, str) and not _VN_ISO.match(value):
            found.append(f"{name} is not ISO 8601 at +07:00")
    if isinstance(body.get("TrangThaiHoSo"), int) and not 1 <= body["TrangThaiHoSo"] <= 10:
        found.append("TrangThaiHoSo out of range")
    if isinstance(body.get("HinhThuc"), int) and not 1 <= body["HinhThuc"] <= 3:
        found.append("HinhThuc out of range")
    if "TinhTrangXuLy" in body and (body.get("TrangThaiHoSo") not in (9, 10) or body["TinhTrangXuLy"] not in (1, 2, 3)):
        found.append("TinhTrangXuLy only 1–3 on a finished dossier")
    return found


@dataclass
class Accepted:
    ack_id: str
    body: dict[str, Any]
    at: float


@dataclass
class PortalState:
    """Everything the fake saw; guarded by ``lock`` (the server answers on several threads)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    accepted: dict[str, Accepted] = field(default_factory=dict)  # by MaDongBo
    arrivals: dict[str, list[int]] = field(default_factory=dict)  # MaHoSo → SoThuTu of accepted syncs, in order
    out_of_order: list[tuple[str, int]] = field(default_factory=list)
    requests: int = 0
    duplicates: int = 0
    refused: list[list[str]] = field(default_factory=list)
    fail_next: int = 0
    fail_for: frozenset[str] = frozenset()  # dossier codes answered 500 every time
    duplicate_next: int = 0  # accept the next syncs but answer that they were there already
    delay: float = 0.0
    delay_after_accept: float = 0.0


class FakePortal:
    """The server, on a free port of 127.0.0.1 (or ``port``); ``url`` is the sync endpoint."""

    def __init__(self, *, port: int | None = None, credentials: tuple[str, str] | None = None) -> None:
        self.port = port or free_port()
        self.credentials = credentials
        self.state = PortalState()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{SYNC_PATH}"

    # --- what tests read ---------------------------------------------------------------------------

    def states(self, code: str) -> list[int]:
        """``TrangThaiHoSo`` of a dossier's accepted syncs, in the order they arrived."""
        with self.state.lock:
            ordered = sorted((a for a in self.state.accepted.values() if a.body["MaHoSo"] == code), key=lambda a: a.at)
            return [a.body["TrangThaiHoSo"] for a in ordered]

    def bodies(self, code: str | None = None) -> list[dict[str, Any]]:
        with self.state.lock:
            return [a.body for a in self.state.accepted.values() if code is None or a.body["MaHoSo"] == code]

    def steer(self, **changes: Any) -> None:
        with self.state.lock:
            for name, value in changes.items():
                if name not in {"fail_next", "fail_for", "duplicate_next", "delay", "delay_after_accept"}:
                    raise ValueError(name)
                setattr(self.state, name, value)

    # --- the server --------------------------------------------------------------------------------

    def _authorised(self, header: str | None) -> bool:
        if self.credentials is None:
            return True
        expected = base64.b64encode(":".join(self.credentials).encode()).decode()
        return header == f"Basic {expected}"

    def handle_sync(self, raw: bytes, headers: Mapping[str, str]) -> tuple[int, dict[str, Any], float]:
        """(status, answer, seconds to wait before answering)."""
        state = self.state
        with state.lock:
            state.requests += 1
            if not self._authorised(headers.get("authorization")):
                return 401, {"MaLoi": "XAC_THUC"}, 0.0
            if state.fail_next > 0:
                state.fail_next -= 1
                return 500, {"MaLoi": "LOI_HE_THONG"}, state.delay
            try:
                body = json.loads(raw)
            except ValueError:
                return 400, {"MaLoi": "JSON"}, state.delay
            if isinstance(body, dict) and body.get("MaHoSo") in state.fail_for:
                return 500, {"MaLoi": "LOI_HE_THONG"}, state.delay
            found = problems(body)
            if not found and headers.get("idempotency-key") != body.get("MaDongBo"):
                found = ["Idempotency-Key is not MaDongBo"]
            if found:
                state.refused.append(found)
                return 400, {"MaLoi": "DU_LIEU_KHONG_HOP_LE", "ChiTiet": found}, state.delay
            key = body["MaDongBo"]
            if key in state.accepted:
                state.duplicates += 1
                return 200, {"MaXacNhan": state.accepted[key].ack_id, "TrungLap": True}, state.delay
            ack = f"DVC-{len(state.accepted) + 1:08d}"
            state.accepted[key] = Accepted(ack, body, time.monotonic())
            seen = state.arrivals.setdefault(body["MaHoSo"], [])
            if seen and body["SoThuTu"] < max(seen):
                state.out_of_order.append((body["MaHoSo"], body["SoThuTu"]))
            seen.append(body["SoThuTu"])
            duplicate = state.duplicate_next > 0
            state.duplicate_next -= int(duplicate)
            return 200, {"MaXacNhan": ack, "TrungLap": duplicate}, state.delay + state.delay_after_accept

    def start(self) -> Self:
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: the bodies carry names and identity numbers

            def _answer(self, status: int, data: Any) -> None:
                content = json.dumps(data, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def do_GET(self) -> None:
                if self.path == "/healthz":
                    self._answer(200, {"status": "ok"})
                elif self.path.startswith("/dvcqg/hoso/"):
                    code = unquote(self.path.removeprefix("/dvcqg/hoso/"))
                    self._answer(200, {"MaHoSo": code, "TrangThai": portal.states(code)})
                else:
                    self._answer(404, {"MaLoi": "KHONG_TIM_THAY"})

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.path == "/_control":
                    try:
                        portal.steer(**json.loads(raw))
                    except (ValueError, TypeError):
                        self._answer(400, {"MaLoi": "DIEU_KHIEN"})
                        return
                    self._answer(200, {"ok": True})
                    return
                if self.path != SYNC_PATH:
                    self._answer(404, {"MaLoi": "KHONG_TIM_THAY"})
                    return
                headers = {name.lower(): value for name, value in self.headers.items()}
                status, data, wait = portal.handle_sync(raw, headers)
                if wait:
                    time.sleep(wait)
                # the sender may have given up waiting (a timeout): what a slow portal does to it
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._answer(status, data)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128  # the stdlib's 5 resets a sender's 50 concurrent connections

        self._server = Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, name="fake-portal", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def main() -> None:
    parser = argparse.ArgumentParser(description="A fake national portal (DVCQG sync) for the demo.")
    parser.add_argument("--port", type=int, default=8091)
    args = parser.parse_args()
    portal = FakePortal(port=args.port).start()
    print(f"fake national portal: {portal.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        portal.stop()


if __name__ == "__main__":
    main()
