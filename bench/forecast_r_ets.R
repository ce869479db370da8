# R's forecast::ets() (automatic model choice) + forecast(h = 28) on the first N series of the
# throughput bench's CSV, single-threaded, timed around the fitting only (not the CSV read).
# Prints one line: "R ets: N series in S s = X series/s (forecast <version>)".
# Usage: Rscript bench/forecast_r_ets.R FILE.csv N
suppressPackageStartupMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
n <- as.integer(args[2])
products <- unique(d$product)[seq_len(n)]
groups <- split(d$units, d$product)[products]
t0 <- proc.time()[["elapsed"]]
for (y in groups) {
  fc <- forecast(ets(ts(y, frequency = 7)), h = 28)
}
secs <- proc.time()[["elapsed"]] - t0
cat(sprintf("R ets: %d series in %.2f s = %.2f series/s (forecast %s)\n", n, secs, n / secs,
            as.character(packageVersion("forecast"))))
