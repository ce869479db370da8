window.echarts = null;  // echarts was not installed at build time (tools/setup.sh): tiles render as tables
