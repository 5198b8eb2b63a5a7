/*
 * test_guard.c - the exposure guard's instruction decoder (src/guard.c):
 * from the bytes of a faulting x86-64 instruction, the size of its memory
 * operand, whether it also reads what it writes, and the string forms that
 * the fault handler carries out itself. Each case is a real encoding, as gcc
 * emits it for the access named (the operand is (%rdi) throughout).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "guard.h"
#include "unit.h"

struct insn_case {
    const char   *what;
    uint8_t       bytes[16];
    unsigned      size;
    int           rmw;
    int           string;
    int           rep;
    unsigned      ilen;  /* string forms only */
};

static const struct insn_case cases[] = {
    { "mov %eax,(%rdi)",            { 0x89, 0x07 },                   4, 0, 0, 0, 0 },
    { "mov %rax,(%rdi)",            { 0x48, 0x89, 0x07 },             8, 0, 0, 0, 0 },
    { "mov %ax,(%rdi)",             { 0x66, 0x89, 0x07 },             2, 0, 0, 0, 0 },
    { "movb $1,(%rdi)",             { 0xc6, 0x07, 0x01 },             1, 0, 0, 0, 0 },
    { "mov (%rdi),%eax",            { 0x8b, 0x07 },                   4, 0, 0, 0, 0 },
    { "movzbl (%rdi),%eax",         { 0x0f, 0xb6, 0x07 },             1, 0, 0, 0, 0 },
    { "movzwl (%rdi),%eax",         { 0x0f, 0xb7, 0x07 },             2, 0, 0, 0, 0 },
    { "addl $1,(%rdi)",             { 0x83, 0x07, 0x01 },             4, 1, 0, 0, 0 },
    { "cmpl $1,(%rdi)",             { 0x83, 0x3f, 0x01 },             4, 0, 0, 0, 0 },
    { "add %eax,(%rdi)",            { 0x01, 0x07 },                   4, 1, 0, 0, 0 },
    { "cmp %eax,(%rdi)",            { 0x39, 0x07 },                   4, 0, 0, 0, 0 },
    { "incq (%rdi)",                { 0x48, 0xff, 0x07 },             8, 1, 0, 0, 0 },
    { "lock xadd %eax,(%rdi)",      { 0xf0, 0x0f, 0xc1, 0x07 },       4, 1, 0, 0, 0 },
    { "lock cmpxchg %rcx,(%rdi)",   { 0xf0, 0x48, 0x0f, 0xb1, 0x0f }, 8, 1, 0, 0, 0 },
    { "xchg %eax,(%rdi)",           { 0x87, 0x07 },                   4, 1, 0, 0, 0 },
    { "movsd %xmm0,(%rdi)",         { 0xf2, 0x0f, 0x11, 0x07 },       8, 0, 0, 0, 0 },
    { "movss %xmm0,(%rdi)",         { 0xf3, 0x0f, 0x11, 0x07 },       4, 0, 0, 0, 0 },
    { "movups %xmm0,(%rdi)",        { 0x0f, 0x11, 0x07 },             16, 0, 0, 0, 0 },
    { "vmovdqu %ymm0,(%rdi)",       { 0xc5, 0xfe, 0x7f, 0x07 },       32, 0, 0, 0, 0 },
    { "rep stosb",                  { 0xf3, 0xaa },                   1, 0, 's', 1, 2 },
    { "rep stosq",                  { 0xf3, 0x48, 0xab },             8, 0, 's', 1, 3 },
    { "rep movsb",                  { 0xf3, 0xa4 },                   1, 0, 'm', 1, 2 },
};

static void test_guard_decodes_what_compilers_emit(void **state)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct insn_case *c = &cases[i];
        struct prma_insn in;

        prma__guard_insn_decode(c->bytes, &in);
        /* rep and ilen only mean something for the string forms (an f3
         * prefix is also movss's mandatory one). */
        if (in.size != c->size || (in.rmw != 0) != c->rmw || in.string != c->string ||
            (c->string && ((in.rep != 0) != c->rep || in.ilen != c->ilen)))
            fail_msg("%s: size %u rmw %d string %c rep %d ilen %u; expected %u %d %c %d %u",
                     c->what, in.size, in.rmw, in.string ? in.string : '-', in.rep, in.ilen,
                     c->size, c->rmw, c->string ? c->string : '-', c->rep, c->ilen);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        unit_test_guarded(test_guard_decodes_what_compilers_emit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
