"""Loading the funding history (source A) and hourly candles (source B) into per-series numpy arrays."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .config import BASES, CANDLE_VENUES, HOUR_MS, VENUE_QUOTE

FUNDING_FILES = {v: f"ZuShen168__funding_rate_data/data/funding/venue={v}/data.parquet" for v in VENUE_QUOTE}
CANDLE_FILE = "0xknxwledge__group-m-finm33150-final/data/candles.parquet"


@dataclass(frozen=True)
class FundingSeries:
    """Settlements of one venue and base, in time order. `ts` are UTC epoch ms (as reported, with jitter)."""

    ts: np.ndarray  # int64 ms
    rate: np.ndarray  # float64, fraction per interval
    cumulative: np.ndarray  # float64, cumulative[i] = sum(rate[: i + 1])


@dataclass(frozen=True)
class CandleSeries:
    """Hourly bars of one venue and coin: `open_ms` is the bar's open time; close and USD notional volume."""

    open_ms: np.ndarray  # int64
    close: np.ndarray  # float64
    notional_usd: np.ndarray  # float64, volume (base units) x close


def fingerprint(data_dir: Path) -> str:
    """sha256 over the names and bytes of every file the pipeline reads."""
    digest = hashlib.sha256()
    for rel in sorted([*FUNDING_FILES.values(), CANDLE_FILE]):
        digest.update(rel.encode())
        digest.update(hashlib.sha256((data_dir / rel).read_bytes()).digest())
    return digest.hexdigest()


def load_funding(data_dir: Path) -> dict[tuple[str, str], FundingSeries]:
    out: dict[tuple[str, str], FundingSeries] = {}
    for venue, rel in FUNDING_FILES.items():
        df = pd.read_parquet(data_dir / rel, columns=["canonical_symbol", "settlement_ts", "rate_raw"])
        for base in BASES:
            rows = df[df.canonical_symbol == f"{base}-{VENUE_QUOTE[venue]}-PERP"].sort_values("settlement_ts")
            if rows.empty:
                continue
            ts = rows.settlement_ts.astype("int64").to_numpy() // 1000  # microseconds -> ms
            rate = rows.rate_raw.to_numpy(dtype=np.float64)
            out[(venue, base)] = FundingSeries(ts=ts, rate=rate, cumulative=np.cumsum(rate))
    return out


def load_candles(data_dir: Path) -> dict[tuple[str, str], CandleSeries]:
    df = pd.read_parquet(data_dir / CANDLE_FILE, columns=["timestamp", "venue", "coin", "c", "v"])
    out: dict[tuple[str, str], CandleSeries] = {}
    for (venue, coin), rows in df[df.venue.isin(CANDLE_VENUES) & df.coin.isin(BASES)].groupby(["venue", "coin"]):
        rows = rows.sort_values("timestamp")
        open_ms = rows.timestamp.astype("int64").to_numpy() // 1000
        assert np.all(open_ms % HOUR_MS == 0), "candles must be on the hour grid"
        close = rows.c.to_numpy(dtype=np.float64)
        out[(str(venue), str(coin))] = CandleSeries(open_ms=open_ms, close=close, notional_usd=rows.v.to_numpy(dtype=np.float64) * close)
    return out
