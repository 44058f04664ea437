"""A terminal progress bar for the CLI, fed by ``stylize``'s progress callback."""

from __future__ import annotations

from types import TracebackType

from tqdm import tqdm

from .progress import Progress


class ProgressBar:
    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.bar: tqdm | None = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.bar is not None:
            self.bar.close()

    def update(self, progress: Progress) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            self.bar = tqdm(total=progress.total, unit="step", dynamic_ncols=True)
        w, h = progress.size
        loss = progress.losses.get("total")
        self.bar.set_description(f"scale {progress.scale}/{progress.scales} {w}×{h}")
        self.bar.set_postfix_str("" if loss is None else f"loss {loss:.3g}", refresh=False)
        self.bar.update(progress.step - self.bar.n)
