"""A bounded memo for values a hot path works out again and again (a picture size's description,
a fixed table, a warp's layout): a dict that empties itself when full, so a stream of new keys
(a drawn parameter every call) costs one insert each and never grows the process."""

from __future__ import annotations

from typing import Any


class BoundedMemo(dict):
    """`memo.get(key)` as a dict answers it (C speed on the hot path); `memo.keep(key, value)`
    stores a value, first emptying the memo once it holds `most` entries. Emptying whole, not
    evicting one by one: the keys that matter (a dataset's few sizes, a recipe's fixed settings)
    come back at once, and no order has to be kept per call."""

    def __init__(self, most: int) -> None:
        super().__init__()
        self.most = most

    def keep(self, key: Any, value: Any) -> Any:
        """Store `value` under `key` and return it."""
        if len(self) >= self.most:
            self.clear()
        self[key] = value
        return value
