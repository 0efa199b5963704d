// SCA_HD marks math that both backends compile: g++ sees plain inline
// functions, nvcc sees __host__ __device__ ones.
#pragma once
#if defined(__CUDACC__)
#define SCA_HD __host__ __device__
#else
#define SCA_HD
#endif
