/*
 * render_json.c - the heap document of cli/JSON.md (schema 1).
 */
#include "cli.h"
#include "umm_format.h"

const char *owner_value_label(const struct session *s, int has_owner, uint64_t owner)
{
    if (!has_owner || owner == 0)
        return NULL;
    /* the namer caches; its table is the only thing that changes */
    return hv_namer_name((void *)&s->namer, owner);
}

const char *owner_label(const struct session *s, const struct hv_block_info *info)
{
    return owner_value_label(s, info->has_owner, info->owner);
}

void json_owner_fields(struct jw *w, uint64_t owner, const char *name)
{
    if (owner)
        jw_u64(w, "owner", owner);
    else
        jw_null(w, "owner");
    jw_str(w, "owner_name", name);
}

const char *owner_text(const char *name, uint64_t owner, char *buf, size_t len)
{
    if (name)
        return name;
    if (!owner)
        return "(unknown owner)";
    snprintf(buf, len, "0x%llx", (unsigned long long)owner);
    return buf;
}

static void json_problem(struct jw *w, const struct hv_problem *p)
{
    jw_begin_object(w, NULL);
    jw_str(w, "kind", hv_problem_kind_name(p->kind));
    jw_u64(w, "address", p->address);
    if (p->has_block)
        jw_u64(w, "block", p->block);
    else
        jw_null(w, "block");
    jw_str(w, "message", p->message);
    if (p->has_culprit) {
        jw_begin_object_inline(w, "culprit");
        jw_u64(w, "block", p->culprit.block);
        jw_u64(w, "address", p->culprit.address);
        char hex[24];
        snprintf(hex, sizeof hex, "0x%llx", (unsigned long long)p->culprit.owner);
        if (p->culprit.owner_name[0])
            jw_str(w, "owner", p->culprit.owner_name);
        else if (p->culprit.has_owner && p->culprit.owner)
            jw_str(w, "owner", hex);
        else
            jw_null(w, "owner");
        if (p->culprit.has_seq)
            jw_u64(w, "seq", p->culprit.seq);
        else
            jw_null(w, "seq");
        jw_end_object(w);
    }
    jw_end_object(w);
}

static void json_heap(struct jw *w, const struct session *s, const struct hv_heap *h, int with_blocks)
{
    const struct hv_metrics *m = &h->metrics;
    jw_begin_object(w, NULL);
    jw_str(w, "name", h->name);
    jw_str(w, "format", h->format == HV_FORMAT_UPSTREAM ? "upstream" : "heapview");
    jw_u64(w, "address", h->address);
    jw_u64(w, "size", h->size);
    jw_u64(w, "index_bytes", h->index_bytes);
    jw_begin_array_inline(w, "flags");
    for (unsigned bit = 1; bit <= 0x8000u; bit <<= 1) {
        const char *name = hv_flag_name(bit);
        if ((h->flags & bit) && name)
            jw_str(w, NULL, name);
    }
    jw_end_array(w);
    jw_u64(w, "unit_count", h->unit_count);
    jw_u64(w, "used_entries", m->used_entries);
    jw_u64(w, "free_entries", m->free_entries);
    jw_u64(w, "used_bytes", m->used_bytes);
    jw_u64(w, "free_bytes", m->free_bytes);
    if (m->has_requested)
        jw_u64(w, "requested_bytes", m->requested_bytes);
    else
        jw_null(w, "requested_bytes");
    jw_u64(w, "largest_free", m->largest_free);
    jw_u64(w, "largest_alloc", m->largest_alloc);
    jw_u64(w, "fragmentation", m->fragmentation);
    if (h->has_record) {
        const struct hv_record *r = &h->record;
        jw_begin_object_inline(w, "counters");
        jw_u64(w, "alloc_count", r->alloc_count);
        jw_u64(w, "free_count", r->free_count);
        jw_u64(w, "realloc_count", r->realloc_count);
        jw_u64(w, "oom_count", r->oom_count);
        jw_u64(w, "bad_free_count", r->bad_free_count);
        jw_u64(w, "corruption_count", r->corruption_count);
        jw_u64(w, "seq_next", r->seq_next);
        jw_end_object(w);
        if (r->fault_kind) {
            jw_begin_object_inline(w, "last_fault");
            jw_str(w, "kind", hv_problem_kind_name((int)r->fault_kind));
            jw_str(w, "op", hv_op_name(r->fault_op));
            jw_u64(w, "block", r->fault_block);
            jw_u64(w, "address", r->fault_address);
            jw_u64(w, "expected", r->fault_expected);
            jw_u64(w, "found", r->fault_found);
            jw_u64(w, "seq", r->fault_seq);
            char buf[24];
            const char *name = owner_value_label(s, 1, r->fault_owner);
            if (name)
                jw_str(w, "owner", name);
            else if (r->fault_owner) {
                snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)r->fault_owner);
                jw_str(w, "owner", buf);
            }
            else
                jw_null(w, "owner");
            jw_end_object(w);
        } else {
            jw_null(w, "last_fault");
        }
    } else {
        jw_null(w, "counters");
        jw_null(w, "last_fault");
    }
    jw_begin_array(w, "problems");
    for (size_t i = 0; i < h->problem_count; i++)
        json_problem(w, &h->problems[i]);
    jw_end_array(w);
    if (with_blocks) {
        jw_begin_array(w, "blocks");
        for (size_t i = 0; i < h->block_count; i++) {
            struct hv_block_info info;
            hv_block_detail(h, &h->blocks[i], &info);
            jw_begin_object_inline(w, NULL);
            jw_u64(w, "index", h->blocks[i].index);
            jw_u64(w, "address", info.address);
            jw_u64(w, "size", info.size);
            jw_str(w, "state", h->blocks[i].state == HV_BLOCK_FREE ? "free" : "used");
            if (info.has_requested)
                jw_u64(w, "requested", info.requested);
            else
                jw_null(w, "requested");
            if (info.has_seq)
                jw_u64(w, "seq", info.seq);
            else
                jw_null(w, "seq");
            if (info.has_owner)
                jw_u64(w, "owner", info.owner);
            else
                jw_null(w, "owner");
            jw_str(w, "owner_name", owner_label(s, &info));
            jw_end_object(w);
        }
        jw_end_array(w);
    }
    jw_end_object(w);
}

void render_json_document(FILE *f, const struct session *s, int with_blocks)
{
    struct jw w;
    jw_document_begin(&w, f, "heaps");
    for (size_t i = 0; i < s->heap_count; i++)
        json_heap(&w, s, &s->heaps[i], with_blocks);
    jw_document_end(&w);
}
