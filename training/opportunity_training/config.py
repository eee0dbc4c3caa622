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
class ModelConfig:
    # Chosen by the walk-forward average ROC-AUC (experiments.py; the model card has the table). Bundle 1.0.0 used
    # depth 6, learning rate 0.1, <= 100 trees and no monotone constraints.
    max_depth: int = 4
    learning_rate: float = 0.05
    n_estimators: int = 300
    subsample: float = 0.8
    colsample_bytree: float = 1.0  # < 1 has produced ONNX mismatches (onnxmltools#667)
    early_stopping_rounds: int = 10
    seed: int = 42
    n_jobs: int = 1  # one thread: bit-for-bit reproducible trees
    min_child_weight: float = 1.0
    reg_lambda: float = 1.0
    # Profit and success never fall when the carry rises, all else equal (features in CARRY_FEATURES).
    monotone_carry: bool = True
    # Objective of the profit model: squared error (the mean) or pseudo-Huber (robust to the fat loss tail).
    profit_objective: str = "reg:squarederror"
    # Weight of a fit event halves every this many days before the end of the fit window (None: equal weights).
    recency_half_life_days: float | None = None


# Features that measure the carry the position earns: more of any of them, all else equal, is never worse.
CARRY_FEATURES = (
    "carry_hourly_bp",
    "carry_8h_bp",
    "carry_apr_pct",
    "carry_next_8h_bp",
    "carry_next_24h_bp",
    "first_payment_bp",
    "fund_profit_8h_pct",
    "fund_apr_pct",
)


@dataclass(frozen=True)
class WalkForwardConfig:
    """Rolling-origin evaluation: `folds` test windows of `fold_days` at the end of the labelled span; each fold's
    models fit on everything older than its validation window (the newest `validation_days` before the fold, used
    for early stopping and calibration), with `gap_hours` between fit and validation and between validation and
    test. Only events whose whole label window lies inside the data are labelled span (`complete_labels`)."""

    folds: int = 4
    fold_days: float = 30.0
    validation_days: float = 28.0
    gap_hours: float = 168.0
    top_share: float = 0.1
    calibration_bins: int = 10


@dataclass(frozen=True)
class DecisionConfig:
    """The `take` decision: rank score >= threshold, the threshold chosen on the pooled walk-forward test folds to
    maximise mean realised net profit per trade taken, among thresholds taking at least `min_trades` trades in all
    and at least `min_trades_per_fold` in every fold. None makes money -> no threshold, `take` is always false."""

    min_trades: int = 200
    min_trades_per_fold: int = 20
    # Candidate thresholds: these quantiles of the pooled rank scores.
    quantiles: tuple[float, ...] = tuple(round(0.5 + i * 0.005, 3) for i in range(100))


@dataclass(frozen=True)
class TrainingConfig:
    simulation: SimulationConfig = field(default_factory=SimulationConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    walk_forward: WalkForwardConfig = field(default_factory=WalkForwardConfig)
    decision: DecisionConfig = field(default_factory=DecisionConfig)
    sample_size: int = 5000
    parity_rows: int = 2000
    self_check_rows: int = 100
