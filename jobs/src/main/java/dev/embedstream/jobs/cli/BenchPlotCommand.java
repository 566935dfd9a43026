package dev.embedstream.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * Renders the charts a benchmark describes in its results.json as PNG files next to it, with
 * XChart: bar charts ({@code charts}: file, title, y axis label, x labels and one value list per
 * series) and line charts ({@code "type": "line"}, one x and y list per series).
 */
@Command(name = "bench-plot", mixinStandardHelpOptions = true,
        description = "Render the charts described in a benchmark's results.json as PNG files beside it.")
final class BenchPlotCommand implements Callable<Integer> {

    @Parameters(paramLabel = "results.json")
    Path results;

    @Override
    public Integer call() throws Exception {
        System.setProperty("java.awt.headless", "true");
        JsonNode root = Json.mapper().readTree(Files.readString(results));
        Path dir = results.toAbsolutePath().getParent();
        for (JsonNode c : root.path("charts")) {
            Path png = dir.resolve(c.path("file").asText());
            if ("line".equals(c.path("type").asText())) {
                BitmapEncoder.saveBitmap(lines(c), png.toString(), BitmapEncoder.BitmapFormat.PNG);
                System.out.println("wrote " + png);
                continue;
            }
            CategoryChart chart = new CategoryChartBuilder().width(900).height(500)
                    .title(c.path("title").asText()).xAxisTitle(c.path("x_label").asText(""))
                    .yAxisTitle(c.path("y_label").asText()).build();
            chart.getStyler().setLegendVisible(c.path("series").size() > 1);
            chart.getStyler().setLabelsVisible(true);
            List<String> labels = new ArrayList<>();
            c.path("labels").forEach(l -> labels.add(l.asText()));
            for (Iterator<Map.Entry<String, JsonNode>> it = c.path("series").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> s = it.next();
                List<Double> values = new ArrayList<>();
                s.getValue().forEach(v -> values.add(v.isNumber() ? v.asDouble() : 0.0));
                chart.addSeries(s.getKey(), labels, values);
            }
            BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
            System.out.println("wrote " + png);
        }
        return 0;
    }

    /** A line chart ({@code "type": "line"}): each series is {@code {"x": [...], "y": [...]}}, over time say. */
    private static XYChart lines(JsonNode c) {
        XYChart chart = new XYChartBuilder().width(900).height(500).title(c.path("title").asText())
                .xAxisTitle(c.path("x_label").asText("")).yAxisTitle(c.path("y_label").asText()).build();
        chart.getStyler().setLegendVisible(c.path("series").size() > 1);
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        for (Iterator<Map.Entry<String, JsonNode>> it = c.path("series").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> s = it.next();
            List<Double> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            JsonNode ys = s.getValue().path("y");
            for (int i = 0; i < ys.size(); i++) {
                if (ys.get(i).isNumber()) { // gaps (no batch in that second) are left out
                    x.add(s.getValue().path("x").get(i).asDouble());
                    y.add(ys.get(i).asDouble());
                }
            }
            if (!x.isEmpty()) {
                chart.addSeries(s.getKey(), x, y).setMarker(SeriesMarkers.NONE);
            }
        }
        return chart;
    }
}
