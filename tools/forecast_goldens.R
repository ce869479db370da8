# Golden files for src/forecast from R's forecast package (Hyndman). A dev tool only: CI reads the
# committed goldens and never needs R. Run through tools/forecast_goldens.sh.
#
# Input : tests/forecast/golden/series.csv   (series,date,value; daily, no gaps), rebuilt from
#         $GEN_CSV and $UCI_CSV when both are set (see below)
# Output: tests/forecast/golden/r_fits.csv       series,tag,model,name,value
#         tests/forecast/golden/r_forecasts.csv  series,method,train_size,step,mean,lo80,hi80,lo95,hi95
# Every fit uses frequency 7 (weekly seasonality) and horizon 28. Backtests: 4 consecutive 28-day
# holdouts at the end of each series (train sizes n-112, n-84, n-56, n-28).
suppressPackageStartupMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args) >= 1) args[1] else "tests/forecast/golden"
with_tbats <- !(length(args) >= 2 && args[2] == "--no-tbats")
h <- 28
m <- 7
# series.csv is rebuilt first when its sources are given (tools/forecast_goldens.sh does):
#   generated demand: daily sum(amount) over non-OUT rows of `saleslake generate --rows 200000
#   --seed 7`, total and per region, 2025-01-01 + 237 days;
#   UCI Online Retail: daily sum(Quantity * UnitPrice) over every line (cancellations included),
#   total and the top 5 countries by revenue, 2010-12-01..2011-12-09, 0 on days without trade
#   (every Saturday). tests/forecast/accuracy_test.cc rebuilds the UCI part with our CSV reader and
#   checks it equals this file.
gen_csv <- Sys.getenv("GEN_CSV")
uci_csv <- Sys.getenv("UCI_CSV")
if (nzchar(gen_csv) && nzchar(uci_csv)) {
  out <- list()
  emit <- function(name, days, sums) {
    v <- sums[as.character(days)]
    v[is.na(v)] <- 0
    out[[length(out) + 1]] <<- data.frame(series = name, date = as.character(days),
                                          value = sprintf("%.2f", v), stringsAsFactors = FALSE)
  }
  g <- read.csv(gen_csv, stringsAsFactors = FALSE, colClasses = "character")
  g <- g[toupper(trimws(g$status)) != "OUT" & g$amount != "", ]
  g$amount <- as.numeric(g$amount)
  gdays <- as.Date("2025-01-01") + 0:236
  emit("gen_total", gdays, tapply(g$amount, g$purchase_date, sum))
  for (rg in sort(unique(g$region))) {
    sel <- g$region == rg
    emit(paste0("gen_", gsub(" ", "_", tolower(rg))), gdays,
         tapply(g$amount[sel], g$purchase_date[sel], sum))
  }
  u <- read.csv(uci_csv, stringsAsFactors = FALSE, colClasses = c(InvoiceNo = "character",
                StockCode = "character", InvoiceDate = "character"))
  u$day <- substr(u$InvoiceDate, 1, 10)
  u$rev <- u$Quantity * u$UnitPrice
  udays <- seq(as.Date(min(u$day)), as.Date(max(u$day)), by = "day")
  emit("uci_total", udays, tapply(u$rev, u$day, sum))
  top <- names(sort(tapply(u$rev, u$Country, sum), decreasing = TRUE))[1:5]
  for (cn in top) {
    sel <- u$Country == cn
    emit(paste0("uci_", gsub(" ", "_", tolower(cn))), udays, tapply(u$rev[sel], u$day[sel], sum))
  }
  write.csv(do.call(rbind, out), file.path(dir, "series.csv"), row.names = FALSE, quote = FALSE)
  cat("rebuilt", file.path(dir, "series.csv"), "\n")
  if (nzchar(Sys.getenv("SERIES_ONLY"))) quit(save = "no")
}
data <- read.csv(file.path(dir, "series.csv"), stringsAsFactors = FALSE)
fits <- list()
fcs <- list()
num <- function(x) sprintf("%.17g", x)

add_fit <- function(series, tag, model, name, value) {
  if (length(value) != 1) { cat("BAD", series, tag, model, name, "\n"); return(invisible()) }
  fits[[length(fits) + 1]] <<- data.frame(series = series, tag = tag, model = model, name = name,
                                          value = num(value), stringsAsFactors = FALSE)
}
add_fc <- function(series, method, n, fc) {
  lo <- if (is.null(fc$lower)) matrix(NA, h, 2) else as.matrix(fc$lower)
  hi <- if (is.null(fc$upper)) matrix(NA, h, 2) else as.matrix(fc$upper)
  fcs[[length(fcs) + 1]] <<- data.frame(series = series, method = method, train_size = n,
    step = 1:h, mean = num(as.numeric(fc$mean)), lo80 = num(lo[, 1]), hi80 = num(hi[, 1]),
    lo95 = num(lo[, 2]), hi95 = num(hi[, 2]), stringsAsFactors = FALSE)
}
code_of <- function(fit) {
  cmp <- fit$components
  paste0(cmp[1], cmp[2], ifelse(as.logical(cmp[4]), "d", ""), cmp[3])
}
add_ets <- function(series, tag, fit) {
  code <- code_of(fit)
  for (p in c("alpha", "beta", "gamma", "phi")) {
    if (!is.na(fit$par[p])) add_fit(series, tag, code, p, fit$par[p])
  }
  add_fit(series, tag, code, "loglik", fit$loglik)
  add_fit(series, tag, code, "aic", fit$aic)
  add_fit(series, tag, code, "aicc", fit$aicc)
  add_fit(series, tag, code, "sigma2", fit$sigma2)
  add_fit(series, tag, code, "mse", fit$mse)
  x0 <- as.numeric(fit$states[1, ])
  for (i in seq_along(x0)) add_fit(series, tag, code, paste0("x0_", i), x0[i])
  code
}

# The SES parameters inside thetaf() (thetaf() does not return them): same seasonal test and
# adjustment, then ses().
theta_ses_par <- function(x) {
  n <- length(x)
  seasonal <- FALSE
  if (!is.constant(x) && n > 2 * m) {
    r <- as.numeric(acf(x, lag.max = m, plot = FALSE)$acf)[-1]
    stat <- sqrt((1 + 2 * sum(r[-m]^2)) / n)
    seasonal <- (abs(r[m]) / stat > qnorm(0.95))
  }
  if (seasonal) {
    decomp <- decompose(x, type = "multiplicative")
    if (!any(abs(seasonal(decomp)) < 1e-04)) x <- seasadj(decomp)
  }
  ses(x, h = h)$model$par
}

fixed_models <- c("ANN", "AAN", "AAdN", "ANA", "AAA", "AAdA", "MNN", "MAN", "MAdN", "MNA", "MAA",
                  "MAdA", "MNM", "MAM", "MAdM", "ANM", "AAM", "AAdM")
for (s in unique(data$series)) {
  y <- ts(data$value[data$series == s], frequency = m)
  n <- length(y)
  cat(s, n, "\n")
  positive <- min(y) > 0
  fit <- ets(y)
  code <- add_ets(s, "auto", fit)
  add_fc(s, "ets_auto", n, forecast(fit, h = h))
  for (mc in fixed_models) {
    if (substr(mc, 1, 1) == "M" || grepl("M$", mc)) { if (!positive) next }
    damped <- nchar(mc) == 4
    short <- paste0(substr(mc, 1, 2), substr(mc, nchar(mc), nchar(mc)))
    f <- tryCatch(ets(y, model = short, damped = damped, restrict = FALSE), error = function(e) NULL)
    if (is.null(f)) next
    add_ets(s, "fixed", f)
    add_fc(s, paste0("ets_", mc), n, forecast(f, h = h))
  }
  th <- thetaf(y, h = h)
  sp <- theta_ses_par(y)
  add_fit(s, "theta", "theta", "alpha", sp["alpha"])
  add_fit(s, "theta", "theta", "l0", sp["l"])
  add_fc(s, "thetaf", n, th)
  add_fc(s, "snaive", n, snaive(y, h = h))
  add_fc(s, "naive", n, naive(y, h = h))
  add_fc(s, "tslm", n, forecast(tslm(y ~ trend + season), h = h))
  if (min(y) >= 0) add_fc(s, "croston", n, croston(y, h = h))
  # Rolling-origin backtest: 4 windows of 28 days at the end.
  for (w in 4:1) {
    nt <- n - w * h
    yt <- ts(y[1:nt], frequency = m)
    add_fc(s, "ets_auto", nt, forecast(ets(yt), h = h))
    add_fc(s, "thetaf", nt, thetaf(yt, h = h))
    add_fc(s, "snaive", nt, snaive(yt, h = h))
    add_fc(s, "arima", nt, forecast(auto.arima(yt), h = h))
    if (with_tbats) add_fc(s, "tbats", nt, forecast(tbats(yt, use.parallel = FALSE), h = h))
  }
}
write.csv(do.call(rbind, fits), file.path(dir, "r_fits.csv"), row.names = FALSE, quote = FALSE)
write.csv(do.call(rbind, fcs), file.path(dir, "r_forecasts.csv"), row.names = FALSE, quote = FALSE)
cat("wrote", file.path(dir, "r_fits.csv"), "and r_forecasts.csv with forecast",
    as.character(packageVersion("forecast")), "\n")
