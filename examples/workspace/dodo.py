from micropkg_tasks import *
