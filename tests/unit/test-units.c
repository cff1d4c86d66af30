/* Units, UUIDs and MAC addresses as libvirt reads them. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/base/err.h"
#include "core/base/mac.h"
#include "core/xml/units.h"
#include "core/base/uuid.h"

/* libvirt's table (virScaleInteger): letters alone or with iB are powers of
 * 1024, with B powers of 1000, letter case-insensitive. */
static void test_scale_table(void **state)
{
    (void)state;
    const struct {
        const char *unit;
        uint64_t scale;
    } table[] = {
        {"b", 1},
        {"bytes", 1},
        {"Byte", 1},
        {"KB", 1000},
        {"k", 1024},
        {"K", 1024},
        {"KiB", 1024},
        {"kib", 1024},
        {"MB", 1000000},
        {"M", 1048576},
        {"MiB", 1048576},
        {"GB", 1000000000},
        {"G", 1073741824},
        {"GiB", 1073741824},
        {"TB", 1000000000000ull},
        {"T", 1099511627776ull},
        {"TiB", 1099511627776ull},
        {"PB", 1000000000000000ull},
        {"P", 1125899906842624ull},
        {"PiB", 1125899906842624ull},
        {"EB", 1000000000000000000ull},
        {"E", 1152921504606846976ull},
        {"EiB", 1152921504606846976ull},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        uint64_t s = 0;
        if (units_scale(table[i].unit, 7, &s) < 0)
            fail_msg("%s: %s", table[i].unit, err_msg());
        assert_int_equal(s, table[i].scale);
    }
    uint64_t s = 0;
    assert_int_equal(units_scale(NULL, 1024, &s), 0);
    assert_int_equal(s, 1024);
    assert_int_equal(units_scale("", 1, &s), 0);
    assert_int_equal(s, 1);
    const char *bad[] = {"XB", "Kb", "KiBB", "ZiB", "Q", "kilobytes", "iB"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(units_scale(bad[i], 1, &s), -1);
        char msg[64];
        snprintf(msg, sizeof(msg), "unknown unit '%s'", bad[i]);
        assert_string_equal(err_msg(), msg);
    }
}

static void test_memory_kib(void **state)
{
    (void)state;
    uint64_t kib;
    assert_int_equal(units_parse_memory_kib("1", "GiB", &kib), 0);
    assert_int_equal(kib, 1048576);
    /* 1 GB = 10^9 bytes = 976562.5 KiB, rounded up like libvirt. */
    assert_int_equal(units_parse_memory_kib("1", "GB", &kib), 0);
    assert_int_equal(kib, 976563);
    assert_int_equal(units_parse_memory_kib("2048", NULL, &kib), 0);
    assert_int_equal(kib, 2048);
    assert_int_equal(units_parse_memory_kib("1", "b", &kib), 0);
    assert_int_equal(kib, 1);
    assert_int_equal(units_parse_memory_kib("0", "MiB", &kib), 0);
    assert_int_equal(kib, 0);
    /* The limit is LLONG_MAX bytes. */
    assert_int_equal(units_parse_memory_kib("8388607", "TiB", &kib), 0);
    assert_int_equal(kib, 8388607ull << 30);
    assert_int_equal(units_parse_memory_kib("8388608", "TiB", &kib), -1);
    assert_string_equal(err_msg(), "value too large");
    assert_int_equal(units_parse_memory_kib("9007199254740992", NULL, &kib), -1);
    assert_int_equal(units_parse_memory_kib("1.5", "G", &kib), -1);
    assert_string_equal(err_msg(), "invalid value '1.5'");
    assert_int_equal(units_parse_memory_kib("", NULL, &kib), -1);
    assert_int_equal(units_parse_memory_kib("-1", NULL, &kib), -1);
}

static void test_bytes(void **state)
{
    (void)state;
    uint64_t b;
    assert_int_equal(units_parse_bytes("10", "G", &b), 0);
    assert_int_equal(b, 10737418240ull);
    assert_int_equal(units_parse_bytes("10", "GB", &b), 0);
    assert_int_equal(b, 10000000000ull);
    assert_int_equal(units_parse_bytes("123", NULL, &b), 0);
    assert_int_equal(b, 123);
    assert_int_equal(units_parse_bytes("18446744073709551615", "bytes", &b), 0);
    assert_int_equal(b, UINT64_MAX);
    assert_int_equal(units_parse_bytes("18446744073709551616", "bytes", &b), -1);
    assert_int_equal(units_parse_bytes("16", "EiB", &b), -1);
    assert_string_equal(err_msg(), "value too large");
    assert_int_equal(units_parse_bytes("18446744073709552", "KB", &b), -1);
    assert_int_equal(units_parse_bytes("18446744073709551", "KB", &b), 0);
    assert_int_equal(b, 18446744073709551000ull);
}

static void test_uuid(void **state)
{
    (void)state;
    char out[UUID_STR_LEN];
    const char *same[] = {
        "4b1f3e0a-9c2d-4e5f-8a6b-7c8d9e0f1a2b",    "4B1F3E0A-9C2D-4E5F-8A6B-7C8D9E0F1A2B",
        "4b1f3e0a9c2d4e5f8a6b7c8d9e0f1a2b",        "  4b1f3e0a-9c2d-4e5f-8a6b-7c8d9e0f1a2b\n",
        "4b-1f-3e-0a 9c2d 4e5f 8a6b 7c8d9e0f1a2b", "4b1f3e0a-9c2d4e5f-8a6b7c8d-9e0f1a2b",
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        if (uuid_parse(same[i], out) < 0)
            fail_msg("'%s': %s", same[i], err_msg());
        assert_string_equal(out, "4b1f3e0a-9c2d-4e5f-8a6b-7c8d9e0f1a2b");
    }
    const char *bad[] = {"",
                         "xyz",
                         "4b1f3e0a-9c2d-4e5f-8a6b-7c8d9e0f1a2",
                         "4b1f3e0a-9c2d-4e5f-8a6b-7c8d9e0f1a2bb",
                         "4b1f3e0a-9c2d-4e5f-8a6b-7c8d9e0f1a2g",
                         "4b1f3e0a-9c2d-4e5f-8a6b-7c8d9e0f1a2b x",
                         "4-b1f3e0a9c2d4e5f8a6b7c8d9e0f1a2b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(uuid_parse(bad[i], out), -1);
        char msg[128];
        snprintf(msg, sizeof(msg), "invalid uuid '%s'", bad[i]);
        assert_string_equal(err_msg(), msg);
    }
    char a[UUID_STR_LEN], b[UUID_STR_LEN];
    assert_int_equal(uuid_generate(a), 0);
    assert_int_equal(uuid_generate(b), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(uuid_parse(a, out), 0);
    assert_string_equal(out, a); /* already canonical */
    assert_int_equal(a[14], '4');
    assert_non_null(strchr("89ab", a[19]));
}

static void test_mac(void **state)
{
    (void)state;
    char out[MAC_STR_LEN];
    assert_int_equal(mac_parse("52:54:00:AB:cd:0F", out), 0);
    assert_string_equal(out, "52:54:00:ab:cd:0f");
    assert_int_equal(mac_parse("2:4:0:a:b:c", out), 0);
    assert_string_equal(out, "02:04:00:0a:0b:0c");
    const char *bad[] = {"",
                         "52:54:00:ab:cd",
                         "52:54:00:ab:cd:ef:01",
                         "52-54-00-ab-cd-ef",
                         "52:54:00:ab:cd:efg",
                         "523:54:00:ab:cd:ef",
                         "52:54::ab:cd:ef",
                         "52:54:00:ab:cd:",
                         "zz:54:00:ab:cd:ef"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (mac_parse(bad[i], out) == 0)
            fail_msg("accepted '%s'", bad[i]);
        char msg[128];
        snprintf(msg, sizeof(msg), "invalid MAC address '%s'", bad[i]);
        assert_string_equal(err_msg(), msg);
    }
    assert_true(mac_is_multicast("01:00:5e:00:00:01"));
    assert_false(mac_is_multicast("52:54:00:00:00:01"));
    char a[MAC_STR_LEN], b[MAC_STR_LEN];
    assert_int_equal(mac_generate(a), 0);
    assert_int_equal(mac_generate(b), 0);
    assert_memory_equal(a, "52:54:00:", 9);
    assert_int_equal(mac_parse(a, out), 0);
    assert_string_equal(out, a);
    assert_false(mac_is_multicast(a));
    /* 3 random bytes: two draws colliding is a 1 in 16M event. */
    assert_string_not_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scale_table), cmocka_unit_test(test_memory_kib),
        cmocka_unit_test(test_bytes),       cmocka_unit_test(test_uuid),
        cmocka_unit_test(test_mac),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
