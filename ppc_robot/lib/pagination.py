"""Page arithmetic shared by every paginated list."""

from __future__ import annotations

import math


class PageNumbers:
    """For a dataclass with `page`, `per_page` and `total`: what the pagination macro asks."""

    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1
