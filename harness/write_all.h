/*
 * write_all.h: writes a whole buffer to a descriptor, going on after short writes and
 * signals; -1 (errno set) on the first real error.
 */
#ifndef HARNESS_WRITE_ALL_H
#define HARNESS_WRITE_ALL_H

#include <errno.h>
#include <stddef.h>
#include <unistd.h>

static inline int write_all(int fd, const char *text, size_t length)
{
    while (length > 0) {
        ssize_t written = write(fd, text, length);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        text += written;
        length -= (size_t)written;
    }
    return 0;
}

#endif
