// hiredis, the official C client of Redis (Debian: libhiredis-dev). Only ChannelSocketRedis's
// Hiredis.swift calls it.
#include <sys/time.h>
#include <hiredis/hiredis.h>
