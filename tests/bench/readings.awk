# Prints one POST /readings/store body: readings of meter METER every STEP
# seconds from FROM (epoch seconds), readings number FIRST .. FIRST+COUNT-1 of a
# series of TOTAL (COUNT is cut at TOTAL).  The values follow a day profile with
# a deterministic wobble, always between 0.05 and 0.65 kW.
#
#   awk -v meter=bench-week -v from=1704067200 -v step=60 -v first=0 -v count=10000 \
#       -v total=10080 -f tests/bench/readings.awk
BEGIN {
    if (total == "")
        total = first + count
    if (first + count > total)
        count = total - first
    printf "{\"smartMeterId\":\"%s\",\"electricityReadings\":[", meter
    for (i = 0; i < count; i++) {
        n = first + i
        t = from + n * step
        kw = 0.3 + 0.25 * sin(6.283185307 * (t % 86400) / 86400) + (n * 7919 % 101) / 1000
        printf "%s{\"time\":%.0f,\"reading\":%.4f}", (i ? "," : ""), t, kw
    }
    print "]}"
}
