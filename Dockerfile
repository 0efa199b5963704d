# sca in a container. The build stage runs the same scripts as CI
# (tools/install-deps.sh, tools/build.sh), so the two cannot drift; the
# runtime stage holds only sca, the shared libraries it needs from the build
# stage (yaml-cpp, fmt, OpenBLAS's pthreads build and its Fortran runtime;
# cuBLAS in a CUDA build), and the
# experiments, with sca as the entrypoint.
#
#   docker build -t sca .
#   docker run --gpus all -v "$PWD/runs:/opt/sca/runs" sca train experiments/isolated.yaml --out runs/isolated
#   docker run --gpus all -v "$PWD/runs:/opt/sca/runs" sca sweep experiments/sweeps/isolated-seeds.yaml --out runs/iso60
#
# BASE_IMAGE and RUNTIME_IMAGE must be the same Debian or Ubuntu release (the
# binary links that release's libstdc++, yaml-cpp and fmt). Without nvcc in
# BASE_IMAGE the build has the CPU backend only (CI builds from plain Debian 12).
ARG BASE_IMAGE=nvidia/cuda:12.6.3-devel-ubuntu24.04
ARG RUNTIME_IMAGE=nvidia/cuda:12.6.3-base-ubuntu24.04

FROM ${BASE_IMAGE} AS build
# The GPU architectures to compile for (90 = H100/H200), named, never detected.
ARG CUDA_ARCH=90
WORKDIR /src
COPY tools/install-deps.sh tools/
RUN tools/install-deps.sh --build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN tools/build.sh -DSCA_TESTS=OFF -DSCA_CUDA_ARCH=${CUDA_ARCH} \
 && mkdir -p /opt/sca/bin /opt/sca/lib \
 && cp build/sca /opt/sca/bin/ \
 && ldd build/sca | awk '/=> \// {print $3}' | grep -E 'libyaml-cpp|libfmt|libopenblas|libgfortran|libquadmath|libcublas' | xargs -r -I{} cp -L {} /opt/sca/lib/ \
 && cp -r experiments /opt/sca/

FROM ${RUNTIME_IMAGE}
COPY --from=build /opt/sca /opt/sca
RUN echo /opt/sca/lib > /etc/ld.so.conf.d/sca.conf && ldconfig && /opt/sca/bin/sca --help > /dev/null
ENV PATH=/opt/sca/bin:${PATH}
WORKDIR /opt/sca
ENTRYPOINT ["sca"]
CMD ["--help"]
