/*
 * hv_namer.c - owner symbolisation with a small open-addressing cache.
 */
#include "hv_namer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hv_namer_init(struct hv_namer *n, struct hv_elf *elf, struct hv_snapshot *snap)
{
    memset(n, 0, sizeof *n);
    n->elf = elf;
    n->snap = snap;
}

void hv_namer_free(struct hv_namer *n)
{
    for (size_t i = 0; i < n->cap; i++)
        free(n->table[i].name);
    free(n->table);
    memset(n, 0, sizeof *n);
}

static size_t slot_of(uint64_t owner, size_t cap)
{
    uint64_t x = owner * 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 20) & (cap - 1);
}

static int grow(struct hv_namer *n)
{
    size_t cap = n->cap ? n->cap * 2 : 64;
    struct hv_namer_entry *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < n->cap; i++) {
        if (!n->table[i].used)
            continue;
        size_t s = slot_of(n->table[i].owner, cap);
        while (t[s].used)
            s = (s + 1) & (cap - 1);
        t[s] = n->table[i];
    }
    free(n->table);
    n->table = t;
    n->cap = cap;
    return 0;
}

/* A printable NUL-terminated string of 1..63 characters at addr. */
static int read_tag(struct hv_namer *n, uint64_t addr, char *out, size_t len)
{
    char buf[64];
    size_t got = 0;
    for (; got < sizeof buf; got++) {
        char c;
        if (n->elf && hv_elf_read(n->elf, addr + got, &c, 1) == 0) {
        } else if (n->snap && hv_snapshot_read(n->snap, addr + got, &c, 1) == 0) {
        } else {
            return -1;
        }
        buf[got] = c;
        if (c == '\0')
            break;
        if (c < 0x20 || c > 0x7e)
            return -1;
    }
    if (got == 0 || got == sizeof buf)
        return -1;
    snprintf(out, len, "\"%s\"", buf);
    return 0;
}

static char *compute(struct hv_namer *n, uint64_t owner)
{
    char buf[256];
    struct hv_elf *e = n->elf;
    if (e && hv_elf_is_code(e, owner)) {
        const struct hv_symbol *fn = hv_elf_function_at(e, owner);
        uint64_t pc = owner;
        if (e->machine == 40 /* EM_ARM */)
            pc &= ~(uint64_t)1;
        int len;
        if (fn)
            len = snprintf(buf, sizeof buf, "%s+0x%llx", fn->name, (unsigned long long)(pc - fn->address));
        else
            len = snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)owner);
        /* A return address: the call is the instruction before it. */
        const char *file;
        int line;
        if (len > 0 && (size_t)len < sizeof buf && pc > 0 && hv_elf_source_line(e, pc - 1, &file, &line) == 0)
            snprintf(buf + len, sizeof buf - (size_t)len, " (%s:%d)", file, line);
        return strdup(buf);
    }
    if (read_tag(n, owner, buf, sizeof buf) == 0)
        return strdup(buf);
    return NULL;
}

const char *hv_namer_name(void *ctx, uint64_t owner)
{
    struct hv_namer *n = ctx;
    if (owner == 0)
        return NULL;
    if ((n->count + 1) * 2 > n->cap && grow(n) < 0)
        return NULL;
    size_t s = slot_of(owner, n->cap);
    while (n->table[s].used) {
        if (n->table[s].owner == owner)
            return n->table[s].name;
        s = (s + 1) & (n->cap - 1);
    }
    n->table[s].used = 1;
    n->table[s].owner = owner;
    n->table[s].name = compute(n, owner);
    n->count++;
    return n->table[s].name;
}
