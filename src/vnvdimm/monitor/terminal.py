"""The stdio character device on a terminal: raw input, as QEMU sets it up.

QEMU turns off the terminal's own echo and line buffering and edits the
line itself (its readline), keeping signals (Ctrl-C still stops it).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


def make_raw(fd: int) -> Callable[[], None]:
    """Put a terminal in QEMU's stdio mode; returns the function that restores it."""
    if not os.isatty(fd):
        return lambda: None
    import termios

    saved = termios.tcgetattr(fd)
    mode = termios.tcgetattr(fd)
    mode[0] &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP
                 | termios.INLCR | termios.IGNCR | termios.ICRNL | termios.IXON)
    mode[1] |= termios.OPOST
    mode[3] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.IEXTEN)
    mode[6][termios.VMIN] = 1
    mode[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, mode)

    def restore() -> None:
        try:  # noqa: SIM105 - no contextlib on the start-up path
            termios.tcsetattr(fd, termios.TCSANOW, saved)
        except (termios.error, OSError):
            pass

    return restore
