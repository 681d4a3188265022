/*
 * fuzz_scenario: the scenario loader (harness/scenario.h) on arbitrary file text.
 *
 * The input becomes the whole file, through a memfd so that nothing touches the disk.
 * A loaded scenario has every case turned into summary JSON (the code a run uses next),
 * then everything is freed; ASan's leak check then proves scenario_free owns it all.
 * A refused one must leave one error line with the file's name, and nothing to free.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "scenario.h"

#define CHECK(condition)                                                                           \
    do {                                                                                           \
        if (!(condition))                                                                          \
            abort();                                                                               \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-scenario", MFD_CLOEXEC);
    CHECK(fd >= 0);
    size_t written = 0;
    while (written < size) {
        ssize_t count = write(fd, data + written, size - written);
        CHECK(count > 0);
        written += (size_t)count;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

    scenario loaded;
    char error[SCENARIO_ERROR_SIZE];
    scenario_status status = scenario_load(path, &loaded, error);
    close(fd);
    if (status == SCENARIO_OK) {
        CHECK(error[0] == '\0');
        const scenario_case *cases;
        size_t count;
        scenario_expand(&loaded, &cases, &count);
        CHECK(count >= 1 && count <= SCENARIO_CASES_MAX);
        for (size_t i = 0; i < count; i++) {
            CHECK(cases[i].name != NULL && cases[i].name[0] != '\0');
            json_t *described = scenario_case_to_json(&cases[i]);
            CHECK(described != NULL);
            char *text = json_dumps(described, JSON_COMPACT);
            CHECK(text != NULL);
            free(text);
            json_decref(described);
        }
    } else {
        CHECK(status == SCENARIO_ERROR_FILE || status == SCENARIO_ERROR_SYNTAX ||
              status == SCENARIO_ERROR_INVALID || status == SCENARIO_ERROR_MEMORY);
        CHECK(strnlen(error, SCENARIO_ERROR_SIZE) < SCENARIO_ERROR_SIZE);
        CHECK(error[0] != '\0' && strchr(error, '\n') == NULL);
        CHECK(strncmp(error, path, strlen(path)) == 0);
        /* "Nothing is half-loaded": there is nothing left to free. */
        CHECK(loaded.path == NULL && loaded.cases == NULL && loaded.case_count == 0);
    }
    scenario_free(&loaded);
    return 0;
}
