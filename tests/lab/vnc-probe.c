/* A small real VNC client (libvncclient) for the lab and bench/vnc.sh.
 *
 *   vnc-probe SERVER pointer X,Y,MASK ...   sends each pointer event (RFB
 *                                           PointerEvent: pixels and button
 *                                           mask), 100 ms apart
 *   vnc-probe SERVER fps SECONDS            counts the FramebufferUpdates
 *                                           that arrive in SECONDS, asking
 *                                           for the next one (incremental)
 *                                           as each arrives; prints
 *                                           "updates N seconds S fps F rects R
 *                                           mpixels P" (P: million pixels the
 *                                           rects covered)
 *
 * SERVER is HOST:DISPLAY, HOST::PORT or a unix socket path. No password.
 */
#include <rfb/rfbclient.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static unsigned long updates, rects;
static unsigned long long pixels;

static void got_update(rfbClient *cl, int x, int y, int w, int h)
{
    (void)cl, (void)x, (void)y;
    rects++;
    pixels += (unsigned long long)w * (unsigned long long)h;
}

static void finished(rfbClient *cl)
{
    (void)cl;
    updates++;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void silent(const char *fmt, ...)
{
    (void)fmt;
}

static rfbClient *connect_to(const char *server)
{
    rfbClient *cl = rfbGetClient(8, 3, 4);
    if (!cl)
        return NULL;
    cl->GotFrameBufferUpdate = got_update;
    cl->FinishedFrameBufferUpdate = finished;
    cl->appData.encodingsString = "raw";
    free(cl->serverHost);
    if (server[0] == '/') {
        cl->serverHost = strdup(server);
    } else {
        /* HOST:DISPLAY or HOST::PORT */
        const char *c = strchr(server, ':');
        if (!c)
            return NULL;
        cl->serverHost = strndup(server, (size_t)(c - server));
        cl->serverPort = c[1] == ':' ? atoi(c + 2) : 5900 + atoi(c + 1);
    }
    if (!rfbInitClient(cl, NULL, NULL))
        return NULL; /* it freed cl */
    return cl;
}

static int pointer(rfbClient *cl, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        int x, y, mask;
        if (sscanf(argv[i], "%d,%d,%d", &x, &y, &mask) != 3) {
            fprintf(stderr, "vnc-probe: '%s' is not X,Y,MASK\n", argv[i]);
            return 2;
        }
        if (!SendPointerEvent(cl, x, y, mask)) {
            fprintf(stderr, "vnc-probe: the server closed the connection\n");
            return 1;
        }
        usleep(100000);
    }
    return 0;
}

static int fps(rfbClient *cl, double seconds)
{
    double start = now(), end = start + seconds;
    updates = rects = 0;
    pixels = 0;
    while (now() < end) {
        int n = WaitForMessage(cl, 100000);
        if (n < 0 || (n > 0 && !HandleRFBServerMessage(cl))) {
            fprintf(stderr, "vnc-probe: the server closed the connection\n");
            return 1;
        }
    }
    double took = now() - start;
    printf("updates %lu seconds %.2f fps %.1f rects %lu mpixels %.1f\n", updates, took,
           (double)updates / took, rects, (double)pixels / 1e6);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: vnc-probe SERVER pointer X,Y,MASK ... | SERVER fps SECONDS\n");
        return 2;
    }
    rfbClientLog = silent;
    rfbClient *cl = connect_to(argv[1]);
    if (!cl) {
        fprintf(stderr, "vnc-probe: cannot connect to %s\n", argv[1]);
        return 1;
    }
    int rc;
    if (!strcmp(argv[2], "pointer"))
        rc = pointer(cl, argc - 3, argv + 3);
    else if (!strcmp(argv[2], "fps") && argc == 4)
        rc = fps(cl, atof(argv[3]));
    else
        rc = 2;
    rfbClientCleanup(cl);
    return rc;
}
