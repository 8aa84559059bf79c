#include "spl_timerwheel.h"
