#include "sipmsg_priv.h"
