/*
 * net.c - socket helpers with timeouts for the live memory sources.  All
 * sockets are non-blocking and every wait goes through poll(), so no
 * peer can stall heapview past the caller's timeout.
 */
#define _POSIX_C_SOURCE 200809L

#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

long long net_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int net_set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0)
        return -1;
    return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* Waits until `fd` is ready for `events` or the deadline passes.
 * Returns 1 ready, 0 timed out, -1 poll error (errno set). */
static int wait_fd(int fd, short events, long long deadline_ms)
{
    for (;;) {
        long long left = deadline_ms - net_now_ms();
        if (left < 0)
            left = 0;
        struct pollfd pfd = { .fd = fd, .events = events, .revents = 0 };
        int rc = poll(&pfd, 1, left > 0x7fffffff ? 0x7fffffff : (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            return -1;
        return rc > 0 ? 1 : 0;
    }
}

/* Finishes a non-blocking connect() that returned EINPROGRESS. */
static int connect_wait(int fd, int timeout_ms, char *err, size_t errlen)
{
    int ready = wait_fd(fd, POLLOUT, net_now_ms() + timeout_ms);
    if (ready == 0) {
        snprintf(err, errlen, "connection timed out after %d ms", timeout_ms);
        return -1;
    }
    int soerr = 0;
    socklen_t solen = sizeof soerr;
    if (ready < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &solen) < 0)
        soerr = errno;
    if (soerr != 0) {
        snprintf(err, errlen, "%s", strerror(soerr));
        return -1;
    }
    return 0;
}

static int connect_unix(const char *path, int timeout_ms, char *err, size_t errlen)
{
    struct sockaddr_un sun;
    if (strlen(path) >= sizeof sun.sun_path) {
        snprintf(err, errlen, "socket path is too long");
        return -1;
    }
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || net_set_nonblocking(fd) < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
        if (errno != EINPROGRESS && errno != EAGAIN) {
            snprintf(err, errlen, "%s", strerror(errno));
            close(fd);
            return -1;
        }
        if (connect_wait(fd, timeout_ms, err, errlen) < 0) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

int net_connect(const char *target, int default_port, int timeout_ms,
                char *err, size_t errlen)
{
    if (strncmp(target, "unix:", 5) == 0)
        return connect_unix(target + 5, timeout_ms, err, errlen);

    char host[256];
    char port[16];
    const char *colon = strrchr(target, ':');
    const char *port_text = NULL;
    size_t host_len;
    if (target[0] == '[') {                  /* [IPv6]:PORT or [IPv6] */
        const char *close_bracket = strchr(target, ']');
        if (close_bracket == NULL || (close_bracket[1] != '\0' && close_bracket[1] != ':')) {
            snprintf(err, errlen, "bad address '%s'", target);
            return -1;
        }
        target++;
        host_len = (size_t)(close_bracket - target);
        port_text = close_bracket[1] == ':' ? close_bracket + 2 : NULL;
    } else if (colon != NULL) {
        host_len = (size_t)(colon - target);
        port_text = colon + 1;
    } else if (target[0] != '\0' && strspn(target, "0123456789") == strlen(target)) {
        host_len = 0;
        port_text = target;
    } else {
        host_len = strlen(target);
    }
    if (host_len >= sizeof host) {
        snprintf(err, errlen, "host name is too long");
        return -1;
    }
    memcpy(host, target, host_len);
    host[host_len] = '\0';
    if (host_len == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    if (port_text != NULL) {
        char *end = NULL;
        long value = strtol(port_text, &end, 10);
        if (port_text[0] == '\0' || *end != '\0' || value <= 0 || value > 65535) {
            snprintf(err, errlen, "bad port '%s'", port_text);
            return -1;
        }
        snprintf(port, sizeof port, "%ld", value);
    } else {
        snprintf(port, sizeof port, "%d", default_port);
    }

    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo *list = NULL;
    int gai = getaddrinfo(host, port, &hints, &list);
    if (gai != 0) {
        snprintf(err, errlen, "cannot resolve '%s': %s", host, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    snprintf(err, errlen, "no address for '%s'", host);
    for (struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0 || net_set_nonblocking(fd) < 0) {
            snprintf(err, errlen, "socket: %s", strerror(errno));
            if (fd >= 0)
                close(fd);
            fd = -1;
            continue;
        }
        int ok = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
        if (!ok && errno != EINPROGRESS) {
            snprintf(err, errlen, "%s", strerror(errno));
        } else if (ok || connect_wait(fd, timeout_ms, err, errlen) == 0) {
            int one = 1;
            /* Small request packets must not wait for Nagle's timer. */
            (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            break;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(list);
    return fd;
}

int net_send_all(int fd, const void *buf, size_t len, int timeout_ms,
                 char *err, size_t errlen)
{
    const unsigned char *p = buf;
    long long deadline = net_now_ms() + timeout_ms;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            snprintf(err, errlen, "send failed: %s", strerror(errno));
            return -1;
        }
        int ready = wait_fd(fd, POLLOUT, deadline);
        if (ready == 0) {
            snprintf(err, errlen, "peer accepted no data within %d ms", timeout_ms);
            return -1;
        }
        if (ready < 0) {
            snprintf(err, errlen, "poll failed: %s", strerror(errno));
            return -1;
        }
    }
    return 0;
}

ssize_t net_recv_some(int fd, void *buf, size_t cap, int timeout_ms,
                      char *err, size_t errlen)
{
    long long deadline = net_now_ms() + timeout_ms;
    for (;;) {
        ssize_t n = recv(fd, buf, cap, 0);
        if (n > 0)
            return n;
        if (n == 0 || (n < 0 && errno == ECONNRESET)) {
            snprintf(err, errlen, "connection closed by peer");
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            snprintf(err, errlen, "receive failed: %s", strerror(errno));
            return -1;
        }
        int ready = wait_fd(fd, POLLIN, deadline);
        if (ready == 0) {
            snprintf(err, errlen, "no reply within %d ms", timeout_ms);
            return -1;
        }
        if (ready < 0) {
            snprintf(err, errlen, "poll failed: %s", strerror(errno));
            return -1;
        }
    }
}
