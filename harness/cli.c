#include "cli.h"
#include "cpu_limit.h"
#include "stop_cycle.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A guest with fewer than 1 vCPU or 512 MiB cannot hold a server and its client; more
 * than 64 vCPUs or 64 GiB is no micro-VM any more. */
#define VM_CPUS_MIN 1
#define VM_CPUS_MAX 64
#define VM_MEMORY_MIB_MIN 512
#define VM_MEMORY_MIB_MAX 65536

static const char usage_text[] =
    "Usage: ./run.sh [COMMAND] [OPTIONS] [-- COMMAND ARGS...]\n"
    "\n"
    "A reproducer and regression-test harness for Valkey over RDMA.\n"
    "\n"
    "Commands:\n"
    "  (none)            the main job: bring the soft-RoCE test bed up, start the server\n"
    "                    under test with RDMA and io-threads 4, check that it answers PING\n"
    "                    over RDMA (valkey-cli --rdma) and over TCP, print what was found\n"
    "  run SCENARIO.yaml...  run scenario files (see scenarios/README.md); one line per\n"
    "                    case as it finishes, a table at the end, results in results/\n"
    "  compare --baseline SPEC --candidate SPEC SCENARIO.yaml...\n"
    "                    each case on both builds interleaved (A B A B ...), then per case\n"
    "                    the medians, their ratio with a 95% CI, the one-sided Mann-Whitney\n"
    "                    p and REGRESSION, IMPROVEMENT or NO CHANGE; exit 1 on a regression.\n"
    "                    SPEC: a valkey-server, SERVER:MODULE (its valkey-rdma.so), a Valkey\n"
    "                    source tree (built with RDMA into the cache), or for --baseline a\n"
    "                    results folder of an earlier run (weak evidence: not interleaved)\n"
    "  merge RESULTS_DIR... [--out DIR]  join the results folders of shards into one:\n"
    "                    summary.json (unsharded case order), junit.xml, CSV timelines and\n"
    "                    the report; exit 1 when a merged case was unexpected\n"
    "  repro             the one-line reproduction of valkey-io/valkey#1385: runs\n"
    "                    scenarios/busy-loop.yaml; REPRODUCED and exit 1 on a build with\n"
    "                    the bug, PASS and exit 0 on a fixed one\n"
    "  report RESULTS_DIR...  redraw the gnuplot charts and index.html of results folders\n"
    "                    (runs draw their report themselves)\n"
    "  bench driver      our driver against valkey-benchmark --rdma and ib_write_bw -R,\n"
    "                    side by side in one test bed run; prints a table and\n"
    "                    ratio_min=X link_ratio_min=Y rss_ok=yes|no\n"
    "  bench gate        the regression gate's error rates: compare of a build with\n"
    "                    itself and with its server CPU-limited 20% and 10%, 10 runs\n"
    "                    each (GATE_RUNS), ending false_alarms=A/N detected_20=B/N ...\n"
    "  fuzz [TARGET] [SECONDS]  the libFuzzer targets (resp, rdma_wire, rdma_peer,\n"
    "                    scenario; default all, 60 s each) with ASan and UBSan; crashes\n"
    "                    land in results/fuzz/\n"
    "  exec -- CMD ARGS  run CMD inside the test bed (an RDMA device up, memlock unlimited,\n"
    "                    this repository at the same path, results/ and build/ writable)\n"
    "                    and exit with its exit status\n"
    "  test              build with ASan and UBSan and run every test: unit tests on the\n"
    "                    host, integration tests inside one test bed boot\n"
    "  help              this text\n"
    "\n"
    "Options (every command):\n"
    "  --testbed native|vm|auto  where RDMA runs (default auto: an existing RDMA device,\n"
    "                    else rdma_rxe on this kernel, else a micro-VM)\n"
    "  --server PATH     the valkey-server under test (default: Valkey built with RDMA\n"
    "                    from Debian's source package, cached)\n"
    "  --rdma-module PATH  its valkey-rdma.so; omit when RDMA is built in\n"
    "  --valkey-src DIR  a Valkey source tree to build with RDMA into the cache and test\n"
    "  --cache DIR       cache folder (default $VALKEY_RDMA_HARNESS_CACHE, else\n"
    "                    ~/.cache/valkey-rdma-harness)\n"
    "  --vm-cpus N       vCPUs of the micro-VM (default 2)\n"
    "  --vm-memory MIB   memory of the micro-VM in MiB (default 4096)\n"
    "  --case NAME       run, repro and compare: only the case of this name\n"
    "  --shard I/N       run and compare: only every N-th case from the I-th (from 1),\n"
    "                    counted over the cases of all given scenario files in order\n"
    "  --repetitions N   compare: repetitions per build and case (default 9, at least 5)\n"
    "  --threshold PCT   compare: the median change that matters (default 5)\n"
    "  --candidate-cpu-limit PCT  compare: run the candidate's server in a cgroup limited\n"
    "                    to PCT% of one CPU: a build slowed on purpose, to prove the gate\n"
    "  --candidate-pause PCT  compare: stop the candidate's server for PCT% (1-90) of every\n"
    "                    100 ms: a slow-down in proportion (a closed loop loses ~PCT%)\n"
    "  --out DIR         merge: the merged folder (default results/<UTC time>-merged)\n"
    "  --results DIR     run, repro, compare and the main job: the folder that receives the\n"
    "                    run folders (default results/); created if missing. A folder that\n"
    "                    cannot be written (read-only, disk full) ends the run at the first\n"
    "                    write with one line naming the file and exit 125\n"
    "  -v, --verbose     say more about what is done\n"
    "  -h, --help        this text\n"
    "\n"
    "Exit codes: 0 as expected; 1 an unexpected verdict; 2 bad usage; 125 the environment\n"
    "cannot run it (so `git bisect run` skips); 130 interrupted; exec: the command's own.\n";

const char *cli_usage(void)
{
    return usage_text;
}

const char *cli_testbed_request_name(testbed_request request)
{
    switch (request) {
    case TESTBED_REQUEST_NATIVE:
        return "native";
    case TESTBED_REQUEST_VM:
        return "vm";
    case TESTBED_REQUEST_AUTO:
        break;
    }
    return "auto";
}

static int parse_bounded_int(const char *text, int minimum, int maximum, int *out)
{
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < minimum || value > maximum)
        return -1;
    *out = (int)value;
    return 0;
}

/* "5" or "5%" or "2.5": a percentage strictly between 0 and 100, stored as a fraction. */
static int parse_percentage(const char *text, double *fraction)
{
    char *end = NULL;
    errno = 0;
    double value = strtod(text, &end);
    if (end != NULL && *end == '%')
        end++;
    if (errno != 0 || end == text || *end != '\0' || !isfinite(value) || value <= 0 || value >= 100)
        return -1;
    *fraction = value / 100.0;
    return 0;
}

typedef struct command_name {
    const char *word;
    cli_command command;
} command_name;

static const command_name command_names[] = {
    {"exec", CLI_COMMAND_EXEC},       {"run", CLI_COMMAND_RUN},
    {"repro", CLI_COMMAND_REPRO},     {"report", CLI_COMMAND_REPORT},
    {"bench", CLI_COMMAND_BENCH},     {"fuzz", CLI_COMMAND_FUZZ},
    {"test", CLI_COMMAND_TEST},       {"help", CLI_COMMAND_HELP},
    {"compare", CLI_COMMAND_COMPARE}, {"merge", CLI_COMMAND_MERGE},
    {"inside", CLI_COMMAND_INSIDE},
};

int cli_parse(int argc, char **argv, cli_options *options, char *error, size_t error_size)
{
    memset(options, 0, sizeof *options);
    options->command = CLI_COMMAND_MAIN;
    options->testbed = TESTBED_REQUEST_AUTO;
    options->vm_cpus = CLI_DEFAULT_VM_CPUS;
    options->vm_memory_mib = CLI_DEFAULT_VM_MEMORY_MIB;
    options->repetitions = CLI_DEFAULT_REPETITIONS;
    options->threshold = CLI_DEFAULT_THRESHOLD;
    bool repetitions_given = false, threshold_given = false;

    int index = 1;
    if (index < argc && argv[index][0] != '-') {
        bool known = false;
        for (size_t i = 0; i < sizeof command_names / sizeof command_names[0]; i++) {
            if (strcmp(argv[index], command_names[i].word) == 0) {
                options->command = command_names[i].command;
                known = true;
            }
        }
        if (!known) {
            snprintf(error, error_size, "unknown command \"%s\" (see ./run.sh --help)",
                     argv[index]);
            return -1;
        }
        index++;
        if (options->command == CLI_COMMAND_INSIDE) {
            if (index >= argc || argv[index][0] == '-') {
                snprintf(error, error_size, "inside needs a job name");
                return -1;
            }
            options->inside_job = argv[index++];
        }
    }

    for (; index < argc; index++) {
        const char *word = argv[index];
        const char *value = index + 1 < argc ? argv[index + 1] : NULL;
        if (strcmp(word, "--") == 0) {
            options->command_argv = &argv[index + 1];
            options->command_argc = argc - index - 1;
            break;
        }
        if (word[0] != '-' &&
            (options->command == CLI_COMMAND_RUN || options->command == CLI_COMMAND_REPORT ||
             options->command == CLI_COMMAND_BENCH || options->command == CLI_COMMAND_FUZZ ||
             options->command == CLI_COMMAND_COMPARE || options->command == CLI_COMMAND_MERGE ||
             options->command == CLI_COMMAND_INSIDE)) {
            if (options->scenario_count == CLI_MAX_SCENARIOS) {
                snprintf(error, error_size, "more than %d scenario files", CLI_MAX_SCENARIOS);
                return -1;
            }
            options->scenario_paths[options->scenario_count++] = word;
            continue;
        }
        if (word[0] != '-') {
            snprintf(error, error_size, "unexpected argument \"%s\" (see ./run.sh --help)", word);
            return -1;
        }
        if (strcmp(word, "-h") == 0 || strcmp(word, "--help") == 0) {
            options->command = CLI_COMMAND_HELP;
            continue;
        }
        if (strcmp(word, "-v") == 0 || strcmp(word, "--verbose") == 0) {
            options->verbose = true;
            continue;
        }
        const char *takes_value[] = {
            "--testbed",        "--server",    "--rdma-module",         "--valkey-src",
            "--cache",          "--vm-cpus",   "--vm-memory",           "--case",
            "--baseline",       "--candidate", "--repetitions",         "--threshold",
            "--shard",          "--out",       "--candidate-cpu-limit", "--results",
            "--candidate-pause"};
        bool is_valued = false;
        for (size_t i = 0; i < sizeof takes_value / sizeof takes_value[0]; i++)
            is_valued |= strcmp(word, takes_value[i]) == 0;
        if (!is_valued) {
            snprintf(error, error_size, "unknown option \"%s\" (see ./run.sh --help)", word);
            return -1;
        }
        if (value == NULL || value[0] == '\0') {
            snprintf(error, error_size, "%s needs a value", word);
            return -1;
        }
        index++;
        if (strcmp(word, "--testbed") == 0) {
            if (strcmp(value, "auto") == 0)
                options->testbed = TESTBED_REQUEST_AUTO;
            else if (strcmp(value, "native") == 0)
                options->testbed = TESTBED_REQUEST_NATIVE;
            else if (strcmp(value, "vm") == 0)
                options->testbed = TESTBED_REQUEST_VM;
            else {
                snprintf(error, error_size, "--testbed must be native, vm or auto, not \"%s\"",
                         value);
                return -1;
            }
        } else if (strcmp(word, "--server") == 0) {
            options->server_path = value;
        } else if (strcmp(word, "--rdma-module") == 0) {
            options->rdma_module_path = value;
        } else if (strcmp(word, "--valkey-src") == 0) {
            options->valkey_source = value;
        } else if (strcmp(word, "--case") == 0) {
            options->case_name = value;
        } else if (strcmp(word, "--baseline") == 0) {
            options->baseline = value;
        } else if (strcmp(word, "--candidate") == 0) {
            options->candidate = value;
        } else if (strcmp(word, "--out") == 0) {
            options->out_dir = value;
        } else if (strcmp(word, "--results") == 0) {
            options->results_dir = value;
        } else if (strcmp(word, "--shard") == 0) {
            if (shard_parse(value, &options->shard, error, error_size) != 0)
                return -1;
        } else if (strcmp(word, "--repetitions") == 0) {
            repetitions_given = true;
            if (parse_bounded_int(value, CLI_MINIMUM_REPETITIONS, CLI_MAXIMUM_REPETITIONS,
                                  &options->repetitions) != 0) {
                snprintf(error, error_size, "--repetitions must be a whole number from %d to %d",
                         CLI_MINIMUM_REPETITIONS, CLI_MAXIMUM_REPETITIONS);
                return -1;
            }
        } else if (strcmp(word, "--threshold") == 0) {
            threshold_given = true;
            if (parse_percentage(value, &options->threshold) != 0) {
                snprintf(error, error_size,
                         "--threshold must be a percentage above 0 and below 100, not \"%s\"",
                         value);
                return -1;
            }
        } else if (strcmp(word, "--candidate-cpu-limit") == 0) {
            if (parse_bounded_int(value, 1, CPU_LIMIT_MAX_PERCENT, &options->candidate_cpu_limit) !=
                0) {
                snprintf(error, error_size,
                         "--candidate-cpu-limit must be a whole percent of one CPU from 1 to %d",
                         CPU_LIMIT_MAX_PERCENT);
                return -1;
            }
        } else if (strcmp(word, "--candidate-pause") == 0) {
            if (parse_bounded_int(value, 1, STOP_CYCLE_MAX_PERCENT, &options->candidate_pause) !=
                0) {
                snprintf(error, error_size,
                         "--candidate-pause must be a whole percent from 1 to %d",
                         STOP_CYCLE_MAX_PERCENT);
                return -1;
            }
        } else if (strcmp(word, "--cache") == 0) {
            options->cache_dir = value;
        } else if (strcmp(word, "--vm-cpus") == 0) {
            if (parse_bounded_int(value, VM_CPUS_MIN, VM_CPUS_MAX, &options->vm_cpus) != 0) {
                snprintf(error, error_size, "--vm-cpus must be a whole number from %d to %d",
                         VM_CPUS_MIN, VM_CPUS_MAX);
                return -1;
            }
        } else if (strcmp(word, "--vm-memory") == 0) {
            if (parse_bounded_int(value, VM_MEMORY_MIB_MIN, VM_MEMORY_MIB_MAX,
                                  &options->vm_memory_mib) != 0) {
                snprintf(error, error_size,
                         "--vm-memory must be a whole number of MiB from %d to %d",
                         VM_MEMORY_MIB_MIN, VM_MEMORY_MIB_MAX);
                return -1;
            }
        }
    }

    if (options->command == CLI_COMMAND_HELP)
        return 0;
    if (options->server_path && options->valkey_source) {
        snprintf(error, error_size, "--server and --valkey-src name two servers: give one");
        return -1;
    }
    if (options->rdma_module_path && !options->server_path) {
        snprintf(error, error_size, "--rdma-module needs --server");
        return -1;
    }
    if (options->command == CLI_COMMAND_BENCH &&
        (options->scenario_count != 1 || (strcmp(options->scenario_paths[0], "driver") != 0 &&
                                          strcmp(options->scenario_paths[0], "gate") != 0))) {
        snprintf(error, error_size, "bench takes one benchmark name: driver or gate");
        return -1;
    }
    if (options->command == CLI_COMMAND_FUZZ && options->scenario_count > 2) {
        snprintf(error, error_size, "fuzz takes at most a target and a number of seconds");
        return -1;
    }
    if (options->command == CLI_COMMAND_REPORT && options->scenario_count == 0) {
        snprintf(error, error_size, "report needs at least one results folder");
        return -1;
    }
    if (options->command == CLI_COMMAND_RUN && options->scenario_count == 0) {
        snprintf(error, error_size, "run needs at least one scenario file");
        return -1;
    }
    bool compare = options->command == CLI_COMMAND_COMPARE;
    bool inside = options->command == CLI_COMMAND_INSIDE;
    if (compare && (options->server_path || options->valkey_source)) {
        snprintf(error, error_size,
                 "compare takes its builds from --baseline and --candidate, "
                 "not --server, --rdma-module or --valkey-src");
        return -1;
    }
    if (!compare && !inside) {
        const char *compare_only = options->baseline              ? "--baseline"
                                   : options->candidate           ? "--candidate"
                                   : repetitions_given            ? "--repetitions"
                                   : threshold_given              ? "--threshold"
                                   : options->candidate_cpu_limit ? "--candidate-cpu-limit"
                                   : options->candidate_pause     ? "--candidate-pause"
                                                                  : NULL;
        if (compare_only) {
            snprintf(error, error_size, "%s applies to compare only", compare_only);
            return -1;
        }
    }
    if (compare && (!options->baseline || !options->candidate)) {
        snprintf(error, error_size, "compare needs --baseline SPEC and --candidate SPEC");
        return -1;
    }
    if (compare && options->scenario_count == 0) {
        snprintf(error, error_size, "compare needs at least one scenario file");
        return -1;
    }
    if (options->shard.count > 0 && options->command != CLI_COMMAND_RUN && !compare && !inside) {
        snprintf(error, error_size, "--shard applies to run and compare only");
        return -1;
    }
    if (options->results_dir && options->command != CLI_COMMAND_RUN &&
        options->command != CLI_COMMAND_REPRO && options->command != CLI_COMMAND_MAIN && !compare &&
        !inside) {
        snprintf(error, error_size,
                 "--results applies to run, repro, compare and the main job only");
        return -1;
    }
    if (options->out_dir && options->command != CLI_COMMAND_MERGE) {
        snprintf(error, error_size, "--out applies to merge only");
        return -1;
    }
    if (options->command == CLI_COMMAND_MERGE && options->scenario_count == 0) {
        snprintf(error, error_size, "merge needs at least one results folder");
        return -1;
    }
    if (options->case_name && options->command != CLI_COMMAND_RUN && !compare &&
        options->command != CLI_COMMAND_REPRO && options->command != CLI_COMMAND_INSIDE) {
        snprintf(error, error_size, "--case applies to run, repro and compare only");
        return -1;
    }
    if (options->command == CLI_COMMAND_EXEC && options->command_argc == 0) {
        snprintf(error, error_size, "exec needs a command after \"--\"");
        return -1;
    }
    if (options->command != CLI_COMMAND_EXEC && options->command != CLI_COMMAND_INSIDE &&
        options->command_argv != NULL) {
        snprintf(error, error_size, "only exec takes a command after \"--\"");
        return -1;
    }
    return 0;
}
