package dev.descent.sdk.plot;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.util.List;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.ValueTick;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.ui.RectangleEdge;
import org.junit.jupiter.api.Test;

class DecadeLogAxisTest {
    @Test
    void shouldTickAtOneTwoFiveStepsOverFewDecades() {
        assertThat(DecadeLogAxis.tickValues(0.1, 10)).containsExactly(0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0);
        assertThat(DecadeLogAxis.tickValues(0.13, 0.9)).containsExactly(0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9);
    }

    @Test
    void shouldTickAtDecadesOverManyAndThinThemOverVeryMany() {
        assertThat(DecadeLogAxis.tickValues(1e-3, 1e4)).containsExactly(1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0, 1e3, 1e4);
        List<Double> wide = DecadeLogAxis.tickValues(1e-12, 1e12);
        assertThat(wide).hasSizeLessThanOrEqualTo(13).contains(1.0, 1e-12, 1e12).doesNotContain(10.0);
        assertThat(DecadeLogAxis.tickValues(-1, 10)).isEmpty();
    }

    @Test
    void shouldLabelTheLogAxisOfAFigureWithCleanValues() {
        double[] loss = new double[50];
        for (int i = 0; i < loss.length; i++) {
            loss[i] = 2.3 * Math.pow(0.9, i); // from 2.3 down to ~0.013
        }
        JFreeChart chart = Figures.chart(Panel.of("t", "step", "loss", List.of(Series.ofIndexed("loss", loss))).withLogY());
        BufferedImage img = new BufferedImage(800, 600, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        chart.draw(g, new Rectangle2D.Double(0, 0, 800, 600));
        XYPlot plot = chart.getXYPlot();
        @SuppressWarnings("unchecked")
        List<ValueTick> ticks = (List<ValueTick>) plot.getRangeAxis().refreshTicks(g, new org.jfree.chart.axis.AxisState(),
                new Rectangle2D.Double(0, 0, 700, 500), RectangleEdge.LEFT);
        g.dispose();
        assertThat(ticks).isNotEmpty();
        for (ValueTick t : ticks) {
            double mantissa = t.getValue() / Math.pow(10, Math.floor(Math.log10(t.getValue())));
            assertThat(Math.round(mantissa * 1000) / 1000.0).as(t.getText()).isIn(1.0, 2.0, 5.0);
            assertThat(t.getText()).matches("[0-9.]+");
        }
    }

    @Test
    void shouldUseTheSameTicksOnALogStepAxis() {
        double[] x = new double[3000];
        double[] y = new double[3000];
        for (int i = 0; i < x.length; i++) {
            x[i] = i + 1;
            y[i] = Math.min(1, i / 1000.0);
        }
        Panel p = Panel.of("t", "step", "accuracy", List.of(new Series("acc", x, y))).withLogX();
        JFreeChart chart = Figures.chart(p);
        assertThat(chart.getXYPlot().getDomainAxis()).isInstanceOf(DecadeLogAxis.class);
        assertThat(DecadeLogAxis.tickValues(1, 3000)).containsExactly(1.0, 10.0, 100.0, 1000.0);
    }
}
