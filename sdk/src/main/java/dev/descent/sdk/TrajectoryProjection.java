package dev.descent.sdk;

import java.nio.file.Path;
import java.util.List;

/**
 * The plane of a trajectory landscape: its directions are the two principal components of a training run's saved
 * models (PCA), with the centre network as origin.
 *
 * @param files     the trajectory's model files, in order
 * @param coords    {@code [files + 1][2]} coordinates of each file in the plane, then of the centre network (the
 *                  origin, (0, 0))
 * @param explained fraction of the path's variance each direction explains
 */
public record TrajectoryProjection(List<Path> files, double[][] coords, double[] explained) {
    public TrajectoryProjection {
        files = List.copyOf(files);
        coords = deepCopy(coords);
        explained = explained.clone();
    }

    @Override
    public double[][] coords() {
        return deepCopy(coords);
    }

    @Override
    public double[] explained() {
        return explained.clone();
    }

    private static double[][] deepCopy(double[][] a) {
        double[][] c = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }
}
