"""Every knob of the pipeline in one place, with the values the committed bundle was trained with."""
from __future__ import annotations

from dataclasses import dataclass, field

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

# Source A venues and the instrument each trades for a base asset (Hyperliquid lists USDC perps only).
VENUE_QUOTE = {"binance": "USDT", "bybit": "USDT", "hyperliquid": "USDC"}
# The 18 crypto bases listed on all three venues (SOURCES.md, source A).
BASES = (
    "APT ARB AVAX BNB BTC DOGE ETH INJ LINK LTC NEAR OP SOL SUI TIA TON TRX XRP".split()
)
# Source B has hourly candles for these venues (volume in base units there).
CANDLE_VENUES = ("binance", "bybit")


@dataclass(frozen=True)
class SimulationConfig:
    # Taker fee per leg per side, in percent of notional: entry and exit on both legs = 4 x this.
    taker_fee_percent: float = 0.05
    # A detector publishes an event shortly after a settlement, once the venue has reported the rate, and only
    # when the carry is worth looking at (annualised, simple).
    publish_delay_ms: int = 60_000
    publish_min_apr_percent: float = 10.0
    # Exit rule (no hindsight): leave at the first decision time at which the then-known carry of the position is
    # below this (bp per hour), or when the hold reaches max_hold_hours. Slightly negative rather than 0, so one
    # noisy hourly print does not force a round of fees (-0.25 bp/h is about -22 % APR).
    exit_carry_bp_per_hour: float = -0.25
    max_hold_hours: float = 168.0

    @property
    def round_trip_fee_percent(self) -> float:
        return 4 * self.taker_fee_percent


@dataclass(frozen=True)
class SplitConfig:
    # Shares of the labelled time span (train, validation, test); gaps of `gap_hours` separate them.
    train: float = 0.60
    validation: float = 0.15
    gap_hours: float = 168.0  # >= the longest hold, so no label window crosses into the next period


@dataclass(frozen=True)
class ModelConfig:
    max_depth: int = 6
    learning_rate: float = 0.1
    n_estimators: int = 100
    subsample: float = 0.8
    colsample_bytree: float = 1.0  # < 1 has produced ONNX mismatches (onnxmltools#667)
    early_stopping_rounds: int = 10
    seed: int = 42
    n_jobs: int = 1  # one thread: bit-for-bit reproducible trees


@dataclass(frozen=True)
class TrainingConfig:
    simulation: SimulationConfig = field(default_factory=SimulationConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    sample_size: int = 5000
    parity_rows: int = 2000
    self_check_rows: int = 100
