"""RSS, heap and consumer lag of the soak's worker over time, one PNG; restarts drawn as vertical lines."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(source: str, target: str) -> None:
    with open(source, encoding="utf-8") as f:
        run = json.load(f)
    samples = run["samples"]
    minutes = [s["t"] / 60 for s in samples]
    fig, (mem, lag) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    mem.plot(minutes, [s["rss"] / 2**20 for s in samples], label="RSS")
    mem.plot(minutes, [s["heap"] / 2**20 for s in samples], label="heap used")
    mem.set_ylabel("MiB")
    mem.set_ylim(bottom=0)
    mem.legend(loc="lower right")
    lag.plot(minutes, [s["lag"] for s in samples], color="tab:red", label="consumer lag")
    lag.set_ylabel("records")
    lag.set_xlabel("minutes")
    lag.set_ylim(bottom=0)
    lag.legend(loc="upper right")
    for t in run["restarts"]:
        for ax in (mem, lag):
            ax.axvline(t / 60, color="grey", linestyle=":", linewidth=1)
    fig.suptitle(
        f"soak: {run['rate']} events/s (half of {run['capacity']}) for {run['minutes']} min, "
        f"SIGTERM restart every {run['restartMinutes']} min ({run['client']}, Node {run['node']})"
    )
    fig.tight_layout()
    fig.savefig(target, dpi=80)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
