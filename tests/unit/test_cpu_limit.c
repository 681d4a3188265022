/* cpu_limit.c against a folder laid out like a cgroup v2 root: what it writes where. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpu_limit.h"

static void make_file(const char *folder, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", folder, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    close(fd);
}

static void read_file(const char *folder, const char *name, char *text, size_t size)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", folder, name);
    FILE *file = fopen(path, "r");
    assert_non_null(file);
    size_t got = fread(text, 1, size - 1, file);
    text[got] = '\0';
    fclose(file);
}

/* A fake root with its control file and, as the kernel would make them, the child's. */
static void make_fake_root(char *root, size_t size, pid_t pid)
{
    snprintf(root, size, "/tmp/test-cpu-limit-XXXXXX");
    assert_non_null(mkdtemp(root));
    make_file(root, "cgroup.subtree_control");
    char child[1024];
    snprintf(child, sizeof child, "%s/valkey-rdma-harness-%ld", root, (long)pid);
    assert_int_equal(mkdir(child, 0755), 0);
    make_file(child, "cpu.max");
    make_file(child, "cgroup.procs");
}

static void remove_fake_root(const char *root, pid_t pid)
{
    char path[1024];
    const char *files[] = {"cpu.max", "cgroup.procs"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/valkey-rdma-harness-%ld/%s", root, (long)pid, files[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/valkey-rdma-harness-%ld", root, (long)pid);
    rmdir(path);
    snprintf(path, sizeof path, "%s/cgroup.subtree_control", root);
    unlink(path);
    rmdir(root);
}

static void eighty_percent_is_eight_ms_of_every_ten_for_the_whole_process(void **state)
{
    (void)state;
    char root[64];
    make_fake_root(root, sizeof root, 4242);
    char path[1024], error[256] = "";
    assert_int_equal(
        cpu_limit_apply(root, 4242, 80, path, sizeof path, error, sizeof error), 0);
    char text[128];
    read_file(root, "cgroup.subtree_control", text, sizeof text);
    assert_string_equal(text, "+cpu");
    char child[1024];
    snprintf(child, sizeof child, "%s/valkey-rdma-harness-4242", root);
    assert_string_equal(path, child);
    read_file(child, "cpu.max", text, sizeof text);
    assert_string_equal(text, "8000 10000");
    read_file(child, "cgroup.procs", text, sizeof text);
    assert_string_equal(text, "4242");
    remove_fake_root(root, 4242);
}

static void more_than_one_cpu_is_allowed_and_out_of_range_refused(void **state)
{
    (void)state;
    char root[64];
    make_fake_root(root, sizeof root, 7);
    char path[1024], error[256] = "", text[128], child[1024];
    assert_int_equal(cpu_limit_apply(root, 7, 250, path, sizeof path, error, sizeof error), 0);
    snprintf(child, sizeof child, "%s/valkey-rdma-harness-7", root);
    read_file(child, "cpu.max", text, sizeof text);
    assert_string_equal(text, "25000 10000");
    assert_int_equal(cpu_limit_apply(root, 7, 0, path, sizeof path, error, sizeof error), -1);
    assert_string_equal(error, "cpu limit: 0% is not between 1 and 1000");
    assert_string_equal(path, "");
    assert_int_equal(cpu_limit_apply(root, 7, 1001, path, sizeof path, error, sizeof error), -1);
    remove_fake_root(root, 7);
}

static void a_root_without_cgroups_is_one_clear_error(void **state)
{
    (void)state;
    char root[] = "/tmp/test-cpu-limit-none-XXXXXX";
    assert_non_null(mkdtemp(root));
    char path[1024], error[512] = "";
    assert_int_equal(cpu_limit_apply(root, 9, 50, path, sizeof path, error, sizeof error), -1);
    char expected[512];
    snprintf(expected, sizeof expected,
             "cpu limit: cannot open %s/cgroup.subtree_control: No such file or directory", root);
    assert_string_equal(error, expected);
    assert_string_equal(path, "");
    rmdir(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(eighty_percent_is_eight_ms_of_every_ten_for_the_whole_process),
        cmocka_unit_test(more_than_one_cpu_is_allowed_and_out_of_range_refused),
        cmocka_unit_test(a_root_without_cgroups_is_one_clear_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
