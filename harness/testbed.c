#include "testbed.h"
#include "monotonic_clock.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "process.h"

extern char **environ;

#define NATIVE_NETDEV "vkrdma0"
#define NATIVE_RDMA_DEVICE "vkrxe0"
#define VM_NETDEV "testbed0"
#define VM_RDMA_DEVICE "rxe0"
/* A KVM guest that works reaches user space in a second or two; one that hangs in the
 * firmware (seen on this kind of host) would wait for ever. */
#define KVM_PROBE_TIMEOUT_SECONDS 20
#define SETUP_COMMAND_TIMEOUT_MS 15000
#define MAX_ENVIRONMENT_ENTRIES 4096

static int run_quietly(char *const argv[], char *error, size_t error_size)
{
    char output[512];
    int rc = process_run_capture(argv, SETUP_COMMAND_TIMEOUT_MS, output, sizeof output, error,
                                 error_size);
    if (rc > 0)
        snprintf(error, error_size, "%s exited with %d", argv[0], rc);
    return rc == 0 ? 0 : -1;
}

/* The first IPv4 address of netdev, or -1. */
static int netdev_ipv4(const char *netdev, char *address, size_t address_size)
{
    struct ifaddrs *list = NULL;
    if (getifaddrs(&list) != 0)
        return -1;
    int rc = -1;
    for (struct ifaddrs *entry = list; entry; entry = entry->ifa_next) {
        if (entry->ifa_addr && entry->ifa_addr->sa_family == AF_INET &&
            strcmp(entry->ifa_name, netdev) == 0) {
            struct sockaddr_in *ipv4 = (struct sockaddr_in *)entry->ifa_addr;
            inet_ntop(AF_INET, &ipv4->sin_addr, address, (socklen_t)address_size);
            rc = 0;
            break;
        }
    }
    freeifaddrs(list);
    return rc;
}

static int read_first_line(const char *path, char *out, size_t out_size)
{
    FILE *file = fopen(path, "r");
    if (!file)
        return -1;
    int rc = fgets(out, (int)out_size, file) ? 0 : -1;
    fclose(file);
    out[strcspn(out, "\n")] = '\0';
    return rc;
}

/* An existing RDMA device whose netdev has an IPv4 address. */
static bool find_existing_device(char *device, size_t device_size, char *netdev, size_t netdev_size,
                                 char *address, size_t address_size)
{
    DIR *devices = opendir("/sys/class/infiniband");
    if (!devices)
        return false;
    bool found = false;
    struct dirent *entry;
    while (!found && (entry = readdir(devices)) != NULL) {
        if (entry->d_name[0] == '.')
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "/sys/class/infiniband/%s/ports/1/gid_attrs/ndevs/0",
                 entry->d_name);
        char name[64];
        if (read_first_line(path, name, sizeof name) != 0 || name[0] == '\0')
            continue;
        if (netdev_ipv4(name, address, address_size) != 0)
            continue;
        snprintf(device, device_size, "%s", entry->d_name);
        snprintf(netdev, netdev_size, "%s", name);
        found = true;
    }
    closedir(devices);
    return found;
}

static bool program_in_path(const char *name)
{
    const char *path = getenv("PATH");
    if (!path)
        return false;
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    for (char *saveptr = NULL, *dir = strtok_r(copy, ":", &saveptr); dir;
         dir = strtok_r(NULL, ":", &saveptr)) {
        char candidate[PATH_MAX];
        snprintf(candidate, sizeof candidate, "%s/%s", dir, name);
        if (access(candidate, X_OK) == 0)
            return true;
    }
    return false;
}

int testbed_gather_facts(testbed_facts *facts)
{
    char device[64], netdev[64], address[64];
    memset(facts, 0, sizeof *facts);
    facts->rdma_device_present =
        find_existing_device(device, sizeof device, netdev, sizeof netdev, address, sizeof address);
    facts->is_root = geteuid() == 0;
    if (facts->is_root && program_in_path("modprobe")) {
        char *argv[] = {"modprobe", "--dry-run", "--quiet", "rdma_rxe", NULL};
        char error[256];
        facts->rxe_module_available = run_quietly(argv, error, sizeof error) == 0;
    }
    facts->qemu_available = program_in_path("qemu-system-x86_64");
    return 0;
}

static int make_native_rxe(testbed *bed, char *error, size_t error_size)
{
    char address_with_prefix[80];
    snprintf(address_with_prefix, sizeof address_with_prefix, "%s/%d", TESTBED_ADDRESS,
             TESTBED_PREFIX_LENGTH);
    char *load_rxe[] = {"modprobe", "rdma_rxe", NULL};
    char *load_ucm[] = {"modprobe", "rdma_ucm", NULL};
    char *load_dummy[] = {"modprobe", "dummy", NULL};
    char *add_netdev[] = {"ip", "link", "add", NATIVE_NETDEV, "type", "dummy", NULL};
    char *add_address[] = {"ip", "addr", "add", address_with_prefix, "dev", NATIVE_NETDEV, NULL};
    /* A jumbo netdev MTU lets rxe use its largest path MTU, 4096 (1024 under the
     * default 1500): a quarter of the packets for every large transfer. */
    char *netdev_mtu[] = {"ip", "link", "set", NATIVE_NETDEV, "mtu", TESTBED_NETDEV_MTU, NULL};
    char *netdev_up[] = {"ip", "link", "set", NATIVE_NETDEV, "up", NULL};
    char *add_link[] = {"rdma",   "link",        "add", NATIVE_RDMA_DEVICE, "type", "rxe",
                        "netdev", NATIVE_NETDEV, NULL};
    if (run_quietly(load_rxe, error, error_size) != 0 ||
        run_quietly(load_ucm, error, error_size) != 0 ||
        run_quietly(load_dummy, error, error_size) != 0)
        return -1;
    if (run_quietly(add_netdev, error, error_size) != 0)
        return -1;
    bed->made_netdev = true;
    if (run_quietly(add_address, error, error_size) != 0 ||
        run_quietly(netdev_mtu, error, error_size) != 0 ||
        run_quietly(netdev_up, error, error_size) != 0)
        return -1;
    if (run_quietly(add_link, error, error_size) != 0)
        return -1;
    bed->made_rdma_link = true;
    snprintf(bed->rdma_device, sizeof bed->rdma_device, "%s", NATIVE_RDMA_DEVICE);
    snprintf(bed->netdev, sizeof bed->netdev, "%s", NATIVE_NETDEV);
    snprintf(bed->address, sizeof bed->address, "%s", TESTBED_ADDRESS);
    return 0;
}

static int provision_kernel(testbed *bed, char *error, size_t error_size)
{
    char script[PATH_MAX];
    snprintf(script, sizeof script, "%s/harness/testbed/provision-kernel.sh", bed->repo_root);
    char *argv[] = {script, bed->cache_dir, NULL};
    char output[PATH_MAX * 2];
    /* Downloading and unpacking the kernel package takes seconds; a bound of ten
     * minutes covers a slow mirror. */
    int rc = process_run_capture(argv, 600000, output, sizeof output, error, error_size);
    if (rc != 0) {
        if (rc > 0)
            snprintf(error, error_size, "cannot provision the test bed kernel (exit %d)", rc);
        return -1;
    }
    /* The script prints the kernel folder on its last line. */
    size_t length = strlen(output);
    while (length > 0 && output[length - 1] == '\n')
        output[--length] = '\0';
    char *last_line = strrchr(output, '\n');
    snprintf(bed->kernel_dir, sizeof bed->kernel_dir, "%s", last_line ? last_line + 1 : output);
    return 0;
}

static int make_directory_path(const char *path)
{
    char buffer[PATH_MAX];
    snprintf(buffer, sizeof buffer, "%s", path);
    for (char *slash = buffer + 1; *slash; slash++) {
        if (*slash == '/') {
            *slash = '\0';
            mkdir(buffer, 0755);
            *slash = '/';
        }
    }
    return mkdir(buffer, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

static int write_file(const char *dir, const char *name, const void *data, size_t size)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen(path, "w");
    if (!file)
        return -1;
    size_t written = fwrite(data, 1, size, file);
    int rc = fclose(file);
    return written == size && rc == 0 ? 0 : -1;
}

/* Writes NUL-separated entries: the guest reads them as data, never as shell text. */
static int write_string_list(const char *dir, const char *name, char *const first[],
                             char *const second[])
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen(path, "w");
    if (!file)
        return -1;
    for (int part = 0; part < 2; part++) {
        char *const *list = part == 0 ? first : second;
        for (int i = 0; list && list[i]; i++)
            fwrite(list[i], 1, strlen(list[i]) + 1, file);
    }
    return fclose(file);
}

static void remove_run_directory(const char *dir)
{
    const char *names[] = {"argv", "env", "cwd", "config", "status", "console.log", "qemu.log"};
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* Copies whatever is ready on the two pipes to our own stdout and stderr. Returns the
 * number of pipes still open. */
static int forward_output(int fds[2], int wait_ms, bool quiet)
{
    struct pollfd readable[2];
    int watched = 0;
    for (int i = 0; i < 2; i++) {
        readable[i].fd = fds[i];
        readable[i].events = POLLIN;
        readable[i].revents = 0;
        watched += fds[i] >= 0;
    }
    if (watched == 0) {
        poll(NULL, 0, wait_ms);
        return 0;
    }
    if (poll(readable, 2, wait_ms) <= 0)
        return watched;
    for (int i = 0; i < 2; i++) {
        if (fds[i] < 0 || !(readable[i].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        char chunk[8192];
        ssize_t got = read(fds[i], chunk, sizeof chunk);
        if (got <= 0) {
            close(fds[i]);
            fds[i] = -1;
            watched--;
            continue;
        }
        if (!quiet) {
            ssize_t rc = write(i == 0 ? STDOUT_FILENO : STDERR_FILENO, chunk, (size_t)got);
            (void)rc;
        }
    }
    return watched;
}

typedef struct vm_run {
    char run_dir[PATH_MAX];
    char append[PATH_MAX * 6];
    char memory[32], cpus[16], serial[PATH_MAX + 16];
    char fsdev[8][PATH_MAX + 96];
    char device[8][96];
    char chardev[2][64];
    char *argv[96];
    int argc;
} vm_run;

static void vm_argument(vm_run *run, char *word)
{
    if (run->argc < (int)(sizeof run->argv / sizeof run->argv[0]) - 1)
        run->argv[run->argc++] = word;
    run->argv[run->argc] = NULL;
}

static int run_in_vm(testbed *bed, bool use_kvm, char *const argv[], char *const extra_env[],
                     int timeout_seconds, bool quiet, int *exit_code, char *error,
                     size_t error_size)
{
    static int run_counter;
    vm_run *run = calloc(1, sizeof *run);
    if (!run) {
        snprintf(error, error_size, "out of memory");
        return -1;
    }
    snprintf(run->run_dir, sizeof run->run_dir, "%s/runs/run-%ld-%d", bed->cache_dir,
             (long)getpid(), run_counter++);
    char results_dir[PATH_MAX], build_dir[PATH_MAX], cwd[PATH_MAX];
    snprintf(results_dir, sizeof results_dir, "%s/results", bed->repo_root);
    snprintf(build_dir, sizeof build_dir, "%s/build", bed->repo_root);
    if (!getcwd(cwd, sizeof cwd))
        snprintf(cwd, sizeof cwd, "%s", bed->repo_root);
    if (make_directory_path(run->run_dir) != 0 || make_directory_path(results_dir) != 0 ||
        make_directory_path(build_dir) != 0 ||
        (bed->results_dir[0] && make_directory_path(bed->results_dir) != 0)) {
        snprintf(error, error_size, "cannot make %s: %s", run->run_dir, strerror(errno));
        free(run);
        return -1;
    }
    char config[512];
    int config_length = snprintf(config, sizeof config,
                                 "TESTBED_ADDRESS=%s\nTESTBED_PREFIX=%d\nTESTBED_NETDEV=%s\n"
                                 "TESTBED_NETDEV_MTU=%s\nTESTBED_RDMA_DEVICE=%s\n",
                                 TESTBED_ADDRESS, TESTBED_PREFIX_LENGTH, VM_NETDEV,
                                 TESTBED_NETDEV_MTU, VM_RDMA_DEVICE);
    char *const *environment = environ;
    if (write_string_list(run->run_dir, "argv", argv, NULL) != 0 ||
        write_string_list(run->run_dir, "env", environment, extra_env) != 0 ||
        write_file(run->run_dir, "cwd", cwd, strlen(cwd)) != 0 ||
        write_file(run->run_dir, "config", config, (size_t)config_length) != 0) {
        snprintf(error, error_size, "cannot write the run request in %s", run->run_dir);
        remove_run_directory(run->run_dir);
        free(run);
        return -1;
    }

    /* A --results folder other than <repo>/results is shared too, at its own path. */
    const char *shared[] = {run->run_dir, results_dir, build_dir, bed->results_dir};
    size_t shared_count = bed->results_dir[0] && strcmp(bed->results_dir, results_dir) != 0 ? 4 : 3;
    char shared_list[4 * PATH_MAX + 4] = "";
    for (size_t i = 0; i < shared_count; i++) {
        size_t used = strlen(shared_list);
        snprintf(shared_list + used, sizeof shared_list - used, "%s%s", i ? ":" : "", shared[i]);
    }
    /* Under TCG the guest kernel finds its vCPUs' TSCs "unsynchronized" at boot and falls
     * back to the emulated HPET: every clock read is then a system call and a device
     * access in qemu, 1,297 ns against 141 ns through the TSC (measured in the guest),
     * and the server, the drivers and valkey-benchmark read the clock per request. The
     * emulated TSC follows the host's, which is one clock for both vCPUs (6 million
     * cross-vCPU reads of CLOCK_MONOTONIC: none went backwards), so it is declared
     * reliable. A one-second gate-compare load ran at a median 19,800-21,300 ops/s
     * with it against 14,200-15,700 on the HPET. Under KVM the guest has kvm-clock. */
    const char *clock = use_kvm ? "" : "tsc=reliable clocksource=tsc ";
    snprintf(run->append, sizeof run->append,
             "console=ttyS0 quiet loglevel=3 panic=-1 %stestbed.rw=%s "
             "testbed.modules=%s/modules testbed.run=%s "
             "testbed.setup=%s/harness/testbed/guest-setup.sh",
             clock, shared_list, bed->kernel_dir, run->run_dir, bed->repo_root);
    snprintf(run->memory, sizeof run->memory, "%dM", bed->vm_memory_mib);
    snprintf(run->cpus, sizeof run->cpus, "%d", bed->vm_cpus);
    snprintf(run->serial, sizeof run->serial, "file:%s/console.log", run->run_dir);
    char kernel[PATH_MAX + 16], initrd[PATH_MAX + 32];
    snprintf(kernel, sizeof kernel, "%s/vmlinuz", bed->kernel_dir);
    snprintf(initrd, sizeof initrd, "%s/initramfs.cpio.gz", bed->kernel_dir);

    vm_argument(run, "qemu-system-x86_64");
    if (use_kvm) {
        vm_argument(run, "-accel");
        vm_argument(run, "kvm");
        vm_argument(run, "-cpu");
        vm_argument(run, "host");
    } else {
        vm_argument(run, "-accel");
        vm_argument(run, "tcg,thread=multi");
        vm_argument(run, "-cpu");
        vm_argument(run, "max");
    }
    const char *fixed[] = {"-M",         "q35",         "-display", "none",
                           "-no-reboot", "-nodefaults", "-monitor", "none"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        vm_argument(run, (char *)fixed[i]);
    vm_argument(run, "-smp");
    vm_argument(run, run->cpus);
    vm_argument(run, "-m");
    vm_argument(run, run->memory);
    vm_argument(run, "-kernel");
    vm_argument(run, kernel);
    vm_argument(run, "-initrd");
    vm_argument(run, initrd);
    vm_argument(run, "-append");
    vm_argument(run, run->append);
    vm_argument(run, "-serial");
    vm_argument(run, run->serial);
    /* The host's root, read-only: the guest runs the host's own programs. */
    snprintf(run->fsdev[0], sizeof run->fsdev[0],
             "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap");
    vm_argument(run, "-fsdev");
    vm_argument(run, run->fsdev[0]);
    vm_argument(run, "-device");
    vm_argument(run, "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot");
    for (size_t i = 0; i < shared_count; i++) {
        snprintf(run->fsdev[i + 1], sizeof run->fsdev[i + 1],
                 "local,id=share%zu,path=%s,security_model=none", i, shared[i]);
        snprintf(run->device[i], sizeof run->device[i],
                 "virtio-9p-pci,fsdev=share%zu,mount_tag=share%zu", i, i);
        vm_argument(run, "-fsdev");
        vm_argument(run, run->fsdev[i + 1]);
        vm_argument(run, "-device");
        vm_argument(run, run->device[i]);
    }

    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
        snprintf(error, error_size, "pipe: %s", strerror(errno));
        remove_run_directory(run->run_dir);
        free(run);
        return -1;
    }
    /* qemu opens the write ends by their /dev/fd names (inherited: dup2 clears
     * close-on-exec on 3 and 4 in the child). */
    char out_chardev[64], err_chardev[64];
    snprintf(out_chardev, sizeof out_chardev, "file,id=out,path=/dev/fd/%d", 3);
    snprintf(err_chardev, sizeof err_chardev, "file,id=err,path=/dev/fd/%d", 4);
    vm_argument(run, "-device");
    vm_argument(run, "virtio-serial-pci");
    vm_argument(run, "-chardev");
    vm_argument(run, out_chardev);
    vm_argument(run, "-device");
    vm_argument(run, "virtserialport,chardev=out,name=testbed.stdout");
    vm_argument(run, "-chardev");
    vm_argument(run, err_chardev);
    vm_argument(run, "-device");
    vm_argument(run, "virtserialport,chardev=err,name=testbed.stderr");

    /* qemu's own messages go to a log beside the guest's console, not to our output. */
    char qemu_log[PATH_MAX + 16];
    snprintf(qemu_log, sizeof qemu_log, "%s/qemu.log", run->run_dir);
    int log_fd = open(qemu_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    process qemu;
    int rc = process_spawn_with_fds(&qemu, run->argv, out_pipe[1], err_pipe[1], log_fd, error,
                                    error_size);
    if (log_fd >= 0)
        close(log_fd);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (rc != 0) {
        close(out_pipe[0]);
        close(err_pipe[0]);
        remove_run_directory(run->run_dir);
        free(run);
        return -1;
    }
    int fds[2] = {out_pipe[0], err_pipe[0]};
    long long deadline = monotonic_ms() + (long long)timeout_seconds * 1000;
    int outcome = PROCESS_EXITED;
    for (;;) {
        forward_output(fds, 50, quiet);
        if (process_wait_for(&qemu, 0) == PROCESS_EXITED)
            break;
        if (process_interrupted()) {
            outcome = PROCESS_INTERRUPTED;
            break;
        }
        if (monotonic_ms() >= deadline) {
            outcome = PROCESS_TIMED_OUT;
            break;
        }
    }
    if (outcome != PROCESS_EXITED)
        process_stop(&qemu, 2000);
    /* Drain what is left in the pipes; the writers are gone once qemu is reaped. */
    while (forward_output(fds, 100, quiet) > 0)
        ;

    char status_path[PATH_MAX + 16], status_text[32];
    snprintf(status_path, sizeof status_path, "%s/status", run->run_dir);
    int result = 0;
    if (outcome == PROCESS_INTERRUPTED) {
        snprintf(error, error_size, "interrupted");
        result = -1;
    } else if (outcome == PROCESS_TIMED_OUT) {
        snprintf(error, error_size, "the test bed VM ran past its bound of %d s and was stopped",
                 timeout_seconds);
        result = -1;
    } else if (read_first_line(status_path, status_text, sizeof status_text) != 0) {
        snprintf(error, error_size,
                 "the test bed VM ended without the command's status (qemu exit %d); its "
                 "console is in %s/console.log",
                 process_exit_code(&qemu), run->run_dir);
        result = -1;
    } else {
        *exit_code = atoi(status_text);
    }
    /* Kept only when the error points at its console log; an interrupted run leaves
     * nothing behind. */
    if (result == 0 || outcome == PROCESS_INTERRUPTED)
        remove_run_directory(run->run_dir);
    free(run);
    return result;
}

static int choose_accelerator(testbed *bed, char *error, size_t error_size)
{
    bed->use_kvm = false;
    if (access("/dev/kvm", R_OK | W_OK) != 0)
        return 0;
    struct utsname host;
    uname(&host);
    char probe_path[PATH_MAX];
    snprintf(probe_path, sizeof probe_path, "%s/kvm-probe-%s", bed->cache_dir, host.release);
    char answer[16];
    if (read_first_line(probe_path, answer, sizeof answer) == 0) {
        bed->use_kvm = strcmp(answer, "yes") == 0;
        return 0;
    }
    fprintf(stderr,
            "testbed: probing whether KVM boots the test bed kernel (at most %d s, "
            "once per host kernel)\n",
            KVM_PROBE_TIMEOUT_SECONDS);
    char *probe_command[] = {"true", NULL};
    int exit_code = -1;
    char probe_error[512];
    int rc = run_in_vm(bed, true, probe_command, NULL, KVM_PROBE_TIMEOUT_SECONDS, true, &exit_code,
                       probe_error, sizeof probe_error);
    if (process_interrupted()) {
        snprintf(error, error_size, "interrupted");
        return -1;
    }
    bed->use_kvm = rc == 0 && exit_code == 0;
    FILE *file = fopen(probe_path, "w");
    if (file) {
        fprintf(file, "%s\n", bed->use_kvm ? "yes" : "no");
        fclose(file);
    }
    return 0;
}

int testbed_up(testbed *bed, const cli_options *options, const char *repo_root,
               const char *cache_dir, char *error, size_t error_size)
{
    memset(bed, 0, sizeof *bed);
    snprintf(bed->repo_root, sizeof bed->repo_root, "%s", repo_root);
    snprintf(bed->cache_dir, sizeof bed->cache_dir, "%s", cache_dir);
    if (options->results_dir)
        snprintf(bed->results_dir, sizeof bed->results_dir, "%s", options->results_dir);
    bed->vm_cpus = options->vm_cpus;
    bed->vm_memory_mib = options->vm_memory_mib;
    bed->verbose = options->verbose;

    testbed_facts facts;
    testbed_gather_facts(&facts);
    if (testbed_choose(options->testbed, &facts, &bed->choice, error, error_size) != 0)
        return -1;

    switch (bed->choice.kind) {
    case TESTBED_NATIVE_DEVICE:
        if (!find_existing_device(bed->rdma_device, sizeof bed->rdma_device, bed->netdev,
                                  sizeof bed->netdev, bed->address, sizeof bed->address)) {
            snprintf(error, error_size, "the RDMA device went away");
            return -1;
        }
        return 0;
    case TESTBED_NATIVE_RXE:
        if (make_native_rxe(bed, error, error_size) != 0) {
            testbed_down(bed);
            return -1;
        }
        return 0;
    case TESTBED_VM:
        break;
    }
    snprintf(bed->rdma_device, sizeof bed->rdma_device, "%s", VM_RDMA_DEVICE);
    snprintf(bed->netdev, sizeof bed->netdev, "%s", VM_NETDEV);
    snprintf(bed->address, sizeof bed->address, "%s", TESTBED_ADDRESS);
    if (provision_kernel(bed, error, error_size) != 0)
        return -1;
    return choose_accelerator(bed, error, error_size);
}

static char **environment_with(char *const extra[], const testbed *bed, char *storage,
                               size_t storage_size)
{
    size_t count = 0;
    while (environ[count])
        count++;
    size_t extra_count = 0;
    while (extra && extra[extra_count])
        extra_count++;
    char **environment = calloc(count + extra_count + 5, sizeof *environment);
    if (!environment)
        return NULL;
    size_t used = 0;
    for (size_t i = 0; i < count; i++)
        environment[used++] = environ[i];
    for (size_t i = 0; i < extra_count; i++)
        environment[used++] = extra[i];
    /* TESTBED_NETDEV names a netdev the harness made and may take down (link_flap); an
     * existing RDMA device's netdev belongs to the host and is never named. */
    snprintf(storage, storage_size,
             "TESTBED_KIND=%s%cTESTBED_ADDRESS=%s%cTESTBED_RDMA_DEVICE=%s%cTESTBED_NETDEV=%s",
             testbed_kind_name(bed->choice.kind), '\0', bed->address, '\0', bed->rdma_device, '\0',
             bed->made_netdev ? bed->netdev : "");
    char *cursor = storage;
    for (int i = 0; i < 4; i++) {
        environment[used++] = cursor;
        cursor += strlen(cursor) + 1;
    }
    environment[used] = NULL;
    return environment;
}

int testbed_run(testbed *bed, char *const argv[], char *const extra_environment[],
                int timeout_seconds, int *exit_code, char *error, size_t error_size)
{
    if (bed->choice.kind == TESTBED_VM) {
        /* The guest adds TESTBED_ADDRESS and friends itself; say which kind it is. */
        char kind[64];
        snprintf(kind, sizeof kind, "TESTBED_KIND=vm-%s", bed->use_kvm ? "kvm" : "tcg");
        size_t extra_count = 0;
        while (extra_environment && extra_environment[extra_count])
            extra_count++;
        char **extra = calloc(extra_count + 2, sizeof *extra);
        if (!extra) {
            snprintf(error, error_size, "out of memory");
            return -1;
        }
        for (size_t i = 0; i < extra_count; i++)
            extra[i] = extra_environment[i];
        extra[extra_count] = kind;
        int rc = run_in_vm(bed, bed->use_kvm, argv, extra, timeout_seconds, false, exit_code, error,
                           error_size);
        free(extra);
        return rc;
    }

    struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
    if (setrlimit(RLIMIT_MEMLOCK, &unlimited) != 0) {
        snprintf(error, error_size, "cannot lift the memlock limit: %s", strerror(errno));
        return -1;
    }
    char storage[512];
    char **environment = environment_with(extra_environment, bed, storage, sizeof storage);
    if (!environment) {
        snprintf(error, error_size, "out of memory");
        return -1;
    }
    process child;
    int rc = process_spawn(&child, argv, environment, PROCESS_IO_INHERIT, error, error_size);
    free(environment);
    if (rc != 0)
        return -1;
    int outcome = process_wait_for(&child, timeout_seconds * 1000);
    if (outcome != PROCESS_EXITED) {
        process_stop(&child, 2000);
        snprintf(error, error_size, "%s",
                 outcome == PROCESS_INTERRUPTED ? "interrupted"
                                                : "the command ran past its bound and was stopped");
        return -1;
    }
    *exit_code = process_exit_code(&child);
    return 0;
}

void testbed_down(testbed *bed)
{
    char error[256];
    if (bed->made_rdma_link) {
        char *argv[] = {"rdma", "link", "delete", NATIVE_RDMA_DEVICE, NULL};
        if (run_quietly(argv, error, sizeof error) != 0)
            fprintf(stderr, "testbed: cannot remove %s: %s\n", NATIVE_RDMA_DEVICE, error);
        bed->made_rdma_link = false;
    }
    if (bed->made_netdev) {
        char *argv[] = {"ip", "link", "delete", NATIVE_NETDEV, NULL};
        if (run_quietly(argv, error, sizeof error) != 0)
            fprintf(stderr, "testbed: cannot remove %s: %s\n", NATIVE_NETDEV, error);
        bed->made_netdev = false;
    }
}

void testbed_describe(const testbed *bed, char *out, size_t out_size)
{
    if (bed->choice.kind == TESTBED_VM)
        snprintf(out, out_size, "vm (%s, %d vCPUs, %d MiB), RDMA device %s on %s (%s)",
                 bed->use_kvm ? "KVM" : "TCG emulation", bed->vm_cpus, bed->vm_memory_mib,
                 bed->rdma_device, bed->netdev, bed->address);
    else
        snprintf(out, out_size, "%s, RDMA device %s on %s (%s)",
                 testbed_kind_name(bed->choice.kind), bed->rdma_device, bed->netdev, bed->address);
}
