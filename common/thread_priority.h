// Lower CPU priority for the threads of work that must yield to the rest: the citizens' share
// of the gateway and of the knowledge base, which must never slow the staff's.
#ifndef HOTLINE_COMMON_THREAD_PRIORITY_H_
#define HOTLINE_COMMON_THREAD_PRIORITY_H_

namespace hotline {

// Adds `niceness` to the calling thread's nice value (Linux keeps one per thread), once per
// thread: later calls on the same thread do nothing. 0 or less: nothing. A failure is logged
// and the thread keeps its priority.
void LowerThisThreadsPriority(int niceness);

}  // namespace hotline

#endif  // HOTLINE_COMMON_THREAD_PRIORITY_H_
