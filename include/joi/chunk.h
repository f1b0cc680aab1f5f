/*
 * chunk.h -- a meter's readings of one period, encoded compactly (a "chunk").
 *
 * The chunked storage layout keeps a closed period of a meter (a UTC day) as one
 * member of the meter's sorted set: this module is the codec of that member.  It is
 * pure: no I/O, no Redis; the store decides periods, keys and merging.
 *
 * What it keeps: every reading's time exactly, and every reading's value as the
 * decimal of its shortest round-trip text (joi_num_format), so a reading decodes to
 * the same double, bit for bit, and joi_chunk_each gives back exactly that text
 * without formatting a double.  -0 is kept as 0 (its text is "0" too).
 *
 * Why this shape (after VictoriaMetrics, Gorilla and Prometheus):
 * - Values are decimals (0.0503 is 503 * 10^-4), not binary doubles: meters send
 *   short decimals, whose doubles' bits XOR poorly (Gorilla's scheme), while their
 *   mantissas at one exponent per chunk differ by small integers.  The exponent is
 *   the chunk's, not the reading's: 0.05 and 0.0503 are 500 and 503 at 10^-4.  A
 *   value the exponent cannot carry exactly below 10^18 (a 17-digit reading among
 *   short ones, 5e-324 beside 1000000) is written raw, as (m, e), on its own.
 * - Times are differences from the chunk's usual step: a meter reports at a fixed
 *   step, so most cost nothing, and a gap costs one code (a difference of
 *   differences would cost two).
 * - The codes are Rice codes with a parameter per block of 64 readings, chosen by
 *   the encoder to make the block short (a parameter that says "all zero" makes a
 *   block of regular times free); a rare large code (a kettle switched on, a gap) is
 *   an escape that does not spoil the block's parameter.  No entropy coder or
 *   dictionary: decoding is a few shifts and adds per reading.
 * - At most JOI_CHUNK_MAX = 86400 readings, a UTC day of readings every second (times
 *   are whole seconds), so any day of a meter fits one chunk and a decoder never
 *   holds more than 86400 readings (1.4 MB) for one chunk.
 * - No checksum: Redis keeps the bytes it is given, and a decoder that checks every
 *   field makes a damaged chunk an error, not a crash; a checksum would also keep
 *   the fuzzer from reaching past it.
 *
 * THE FORMAT, version 1
 *
 *   byte 0    version, 0x01
 *   varint    n, the count of readings, 1 .. JOI_CHUNK_MAX
 *   varint    first, the first reading's time (0 .. JOI_TIME_MAX)
 *   varint    span, last time - first (0 when n == 1, at least n - 1 otherwise)
 *   varint    step, the median difference between successive times (0 when n == 1)
 *   varint    zigzag(E), the chunk's exponent, -340 .. 6
 *   bits      the blocks, most significant bit first, then 0 bits to the byte's end;
 *             nothing follows.
 *
 * Varints are LEB128 (7 bits a byte, least significant first, high bit = more),
 * in their shortest form and at most 64 bits.  zigzag(x) is 2x for x >= 0 and
 * -2x - 1 for x < 0.
 *
 * Readings 0..n-1 form blocks of JOI_CHUNK_BLOCK = 64 (the last one shorter).  A
 * block is 6 bits kt, 6 bits kv, then for each of its readings a time code (not for
 * reading 0, whose time is `first`) unless kt == 63, and a value code unless
 * kv == 63.  A parameter of 63 means every code of the block is 0 and none is
 * written.
 *
 * A code u with parameter k (0..62) is a Rice code: q = u >> k zero bits, a 1 bit,
 * then the k low bits of u.  When q >= 6 it is an escape instead: 6 zero bits, then
 * (in a value code only) a kind bit, then for kind 0 (and in time codes) u as
 * 6 bits b - 1 followed by the b - 1 bits of u below its top bit, b being u's length
 * in bits (1..64).
 *
 * Time code of reading i >= 1: zigzag(time[i] - time[i-1] - step).
 *
 * Value code of reading i: its value is the decimal m * 10^e of its shortest text,
 * m without trailing zeros (0 is m = 0, e = 0).  Scaled to the chunk's exponent,
 * M = m * 10^(e - E) when that is an integer below 10^18, the code is zigzag(M - P),
 * P being the scaled value of the last reading coded that way (0 at the start).  A
 * value that does not scale is a raw escape, kind bit 1: m as 6 bits b - 1 and its
 * b - 1 low bits as above, then e + 340 in 9 bits; it leaves P alone.
 *
 * The step, E and the parameters are the encoder's choice (median step; of the
 * readings' exponents, the one that costs fewest bits; the parameter that makes
 * each block shortest); the decoder takes any, so two chunks can differ and hold the
 * same readings.  The encoder is deterministic.
 *
 * The decoder refuses: a version other than 1; truncated or overlong varints; n
 * outside 1..JOI_CHUNK_MAX or larger than the data can hold (12 bits a block at
 * least); times that do not ascend strictly, leave 0..JOI_TIME_MAX, or end elsewhere
 * than first + span; a scaled value below 0 or reaching 10^18; a value of more than
 * 17 digits, above 1000000, that reads as 0, or that is not the text joi_num_format
 * writes for the double it reads as (0.10000000000000001, 5e-1 written 50e-2); bits
 * after the last reading other than the zero padding of the last byte.
 *
 * Example: (1704067200, 0.0503) (1704067260, 0.0621) (1704067380, 1) is 20 bytes:
 *   01                version 1
 *   03                3 readings
 *   80 81 c8 ac 06    first 1704067200
 *   b4 01             span 180
 *   78                step 120 (the median of 60 and 120)
 *   07                zigzag(-4): values 503, 621, 10000 at 10^-4
 *   14 c9 f7 0d e1 d9 00 65 18
 *     000101 kt 5, 001100 kv 12;
 *     1 001111101110 (value zigzag(503) = 1006);
 *     0001 10111 (time zigzag(60 - 120) = 119), 1 000011101100 (value zigzag(118));
 *     1 00000 (time 0), 00001 100101000110 (value zigzag(9379) = 18758); 00 padding
 * (tests/unit/test_chunk.c holds it and two more, byte for byte.)
 *
 * Measured by tests/bench/chunk_bench.c (`make chunk-bench`, generated data, UTC-day
 * chunks, headers included): a year of household-like 1-minute readings with
 * 4 decimals 1.09 bytes a reading (rounded to watts 0.67); 15-minute readings over
 * 90 days 1.78; minute readings with a clock off by up to 3 s, 1 % lost and outages
 * 1.57; random steps of 1-300 s 2.32; `make bench`'s series 1.46; random doubles of
 * 1-17 digits 6.5.  Per reading of the household year, callgrind: decode about 150
 * instructions, joi_chunk_each (the text included) 245, encode 450; joi_num_format
 * alone takes 250.
 *
 * Late data: decode the period's chunk, joi_readings_push the new readings,
 * joi_readings_sort_unique (the last of one time wins), encode.
 */
#ifndef JOI_CHUNK_H
#define JOI_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "joi/buf.h"
#include "joi/error.h"
#include "joi/readings.h"

#define JOI_CHUNK_VERSION 1
/* Readings in one chunk at most: a UTC day of readings every second. */
#define JOI_CHUNK_MAX 86400
/* Readings per block of codes. */
#define JOI_CHUNK_BLOCK 64

/* Appends the chunk of r[0..n) to out.  The readings must be what the service
 * stores: 1 <= n <= JOI_CHUNK_MAX, times in 0..JOI_TIME_MAX strictly ascending (no
 * duplicates: merge them first, joi_readings_sort_unique), values finite and in
 * 0..JOI_READING_MAX.  Returns 0, or -1 with err set (500: the caller passed
 * readings the service never stores) and out unchanged. */
int joi_chunk_encode(const struct joi_reading *r, size_t n, struct joi_buf *out,
                     struct joi_error *err);

/* Decodes the chunk buf[0..len) and appends its readings, ascending by time, to out
 * (which keeps ownership of its items).  Returns 0, or -1 with err set (500,
 * "damaged chunk: ...") and out->n unchanged when buf is not a valid chunk (see the
 * format above).  It reads nothing outside buf and allocates at most room for the
 * chunk's count of readings. */
int joi_chunk_decode(const unsigned char *buf, size_t len, struct joi_readings *out,
                     struct joi_error *err);

/* Called by joi_chunk_each for every reading, in time order: text[0..len) is the
 * reading's shortest round-trip text, exactly joi_num_format's (NUL-terminated,
 * borrowed: valid during the call only).  Returns 0 to go on, anything else to stop. */
typedef int (*joi_chunk_fn)(void *arg, int64_t time, const char *text, size_t len);

/* Hands every reading of the chunk buf[0..len) to fn, without going through a
 * double.  Returns 0 once every reading went to fn; 1 when fn stopped the walk;
 * -1 with err set (500) when the chunk is damaged: fn may already have been given
 * the readings before the damage, and the caller drops what it made of them. */
int joi_chunk_each(const unsigned char *buf, size_t len, joi_chunk_fn fn, void *arg,
                   struct joi_error *err);

struct joi_chunk_info {
    size_t count;  /* readings in the chunk */
    int64_t first; /* the first reading's time */
    int64_t last;  /* the last reading's time */
};

/* Reads the header of the chunk buf[0..len) only (a few bytes: cheap).  Returns 0
 * and fills out, or -1 with err set (500) when the header is damaged.  The rest of
 * the chunk is not checked: joi_chunk_decode can still refuse it. */
int joi_chunk_peek(const unsigned char *buf, size_t len, struct joi_chunk_info *out,
                   struct joi_error *err);

#endif
