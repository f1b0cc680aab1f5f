/*
 * migrate.h -- joi-admin migrate: converts a store from layout 1 to layout 2
 * (joi/layout.h), meter by meter (src/migrate.c).
 *
 * For each key joi:{METER}:r (SCAN MATCH, on each server given, or on the store
 * itself) whose first member is a layout-1 reading ("time:reading": it starts with
 * a digit; a chunk starts with 0x01), the members are read in pages of
 * JOI_MIGRATE_PAGE by rank and grouped by UTC day as they come; every day but the
 * newest becomes a chunk and its day record (joi_layout_day_build: the bytes a
 * batch of those readings stores), the newest day the head.  The meter's keys are
 * then replaced in one script (redis/migrate_meter.lua), which first checks that
 * :r still has the count, first and last member that were read.  A meter whose new
 * days do not fit in one script (JOI_MIGRATE_SCRIPT_DAYS days or
 * JOI_MIGRATE_SCRIPT_BYTES bytes) has the earlier ones written to temporary keys
 * joi:{METER}:mig-r and :mig-e first, which the script renames into place.  Every
 * key has the meter's hash tag, so a sharding proxy runs the script.
 *
 * A crash leaves every meter old or new (and perhaps temporary keys, which the next
 * run deletes before it writes them again); a meter already new is skipped, so the
 * migration is run again until it finishes.  joi:{config}:layout is set to
 * JOI_LAYOUT_VERSION last, only when every meter was converted.
 */
#ifndef JOI_MIGRATE_H
#define JOI_MIGRATE_H

#include <stdio.h>

#include "joi/error.h"

#define JOI_MIGRATE_PAGE 100000          /* members read a command */
#define JOI_MIGRATE_SCRIPT_DAYS 512      /* days written by the replacing script at most */
#define JOI_MIGRATE_SCRIPT_BYTES 4194304 /* bytes of days it takes at most */
#define JOI_MIGRATE_TEMP_R "mig-r"       /* temporary key suffixes (never a meter's own) */
#define JOI_MIGRATE_TEMP_E "mig-e"

struct joi_migrate_totals {
    long long converted, skipped, failed; /* meters */
    long long readings, days;             /* of the meters converted */
};

/* Migrates the store at addr (unix:/path or host:port).  shards[0..nshards) are
 * the servers to SCAN for meters and convert them on (each host:port or
 * unix:/path, as behind a sharding proxy, which does not pass SCAN); with
 * nshards 0, addr itself is scanned.  page is the members read a command
 * (JOI_MIGRATE_PAGE; smaller for tests).  Writes one line per meter and a summary
 * to out; *totals says what was done.  A store of layout 2 is left as it is (one
 * command); a fresh store (no plans, no layout) too: loading its plans makes it
 * layout 2.  Returns 0 when the store is now of layout 2, or -1 with err set
 * (a server failed, a meter failed to convert, the layout is one this build does
 * not know, or addr is malformed: 2 in err->status for that), the layout key then
 * left unwritten. */
int joi_migrate_run(const char *addr, int nshards, char **shards, long long page, FILE *out,
                    struct joi_migrate_totals *totals, struct joi_error *err);

#endif
